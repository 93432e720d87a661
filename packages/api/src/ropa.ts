/**
 * The GDPR Art. 30(1) record of processing activities (RoPA): one row per policy, i.e. per
 * purpose with its retention and legal basis, with the columns of Art. 30(1)(a)-(g). The record
 * is derived from the policies, the data map and telemetry; what it cannot fill in is listed
 * in `gaps` rather than guessed.
 */
import { Type, type Static } from 'typebox';
import { Instant } from './common.js';
import { Contact } from './datamap.js';

/** A system that receives personal data processed under a policy (Art. 30(1)(d)). */
export const RopaRecipient = Type.Object({
  system: Type.String(),
  /** Owning team; `''` when the system is not declared in the data map. */
  team: Type.String(),
  /** Run by another company: a processor (it processes under the policy) or a third-party recipient. */
  thirdParty: Type.Boolean(),
  country: Type.Optional(Type.String()),
  /** The categories it receives (or, for a processor, processes) under the policy. */
  categories: Type.Array(Type.String()),
});
export type RopaRecipient = Static<typeof RopaRecipient>;

/** A system processing or receiving the data in a country outside the EEA (Art. 30(1)(e)). */
export const RopaTransfer = Type.Object({
  system: Type.String(),
  country: Type.String(),
  /** The Art. 46 safeguard (e.g. "SCC 2021/914"); absent is a gap. */
  safeguards: Type.Optional(Type.String()),
});
export type RopaTransfer = Static<typeof RopaTransfer>;

/** Art. 30(1)(f): how long a category is kept under the policy. */
export const RopaErasureTimeLimit = Type.Object({
  category: Type.String(),
  /** ISO 8601 duration, the policy's retention. */
  retention: Type.String(),
});
export type RopaErasureTimeLimit = Static<typeof RopaErasureTimeLimit>;

/** One processing activity: a policy. */
export const RopaRow = Type.Object({
  policy: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
  /** The purpose key (Art. 30(1)(b)). */
  purpose: Type.String(),
  /** The purpose taxonomy's description of the key, else the policy description. */
  purposeDescription: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  legalBasis: Type.String(),
  /** ISO 8601 duration. */
  retention: Type.String(),
  /** Art. 30(1)(c), as declared on the policy. */
  dataSubjects: Type.Array(Type.String()),
  /** Art. 30(1)(c): categories of the fields used under the policy, sorted. */
  personalDataCategories: Type.Array(Type.String()),
  /** The subset of `personalDataCategories` that are special categories (Art. 9). */
  specialCategories: Type.Array(Type.String()),
  /** Systems telemetry saw using data under the policy, sorted. */
  processingSystems: Type.Array(Type.String()),
  recipients: Type.Array(RopaRecipient),
  /** Recipients in words, e.g. "internal: team payments", "third party: stripe (US)". */
  recipientCategories: Type.Array(Type.String()),
  transfers: Type.Array(RopaTransfer),
  erasureTimeLimits: Type.Array(RopaErasureTimeLimit),
  /** Art. 30(1)(g), organisation-wide. */
  securityMeasures: Type.Array(Type.String()),
  /** `YYYY-MM-DD` of the last review by the privacy team. */
  reviewedOn: Type.Optional(Type.String()),
  /** When the policy last changed. */
  lastChangedAt: Instant,
});
export type RopaRow = Static<typeof RopaRow>;

/** Something the record should state but Lethe cannot derive; `column` names the Art. 30 column. */
export const RopaGap = Type.Object({
  policy: Type.Optional(Type.String()),
  column: Type.String(),
  problem: Type.String(),
});
export type RopaGap = Static<typeof RopaGap>;

export const RopaReport = Type.Object({
  generatedAt: Instant,
  /** Art. 30(1)(a); absent when no organisation is recorded (a gap). */
  controller: Type.Optional(Contact),
  jointControllers: Type.Array(Contact),
  representative: Type.Optional(Contact),
  dpo: Type.Optional(Contact),
  securityMeasures: Type.Array(Type.String()),
  rows: Type.Array(RopaRow),
  gaps: Type.Array(RopaGap),
});
export type RopaReport = Static<typeof RopaReport>;
