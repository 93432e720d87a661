/**
 * Consent per subject and purpose (docs/consent.md): each grant and withdrawal is recorded with
 * what proves it under GDPR Art. 7(1) — who gave it (subject), when (`at`), to which notice and
 * version, how (method, channel, URL), where it came from (source), who recorded it — and never
 * overwritten. The current state per purpose is derived from that history.
 */
import { Type, type Static } from 'typebox';
import { QueryInteger, SubjectId, TEXT_PATTERN } from './common.js';
import { LineRejection } from './line-rejection.js';

// The same as schemas.ts's Instant, declared here because schemas.ts imports this module (the
// subject view carries consent) and a cycle between the two would leave one undefined.
const Instant = Type.String({ description: 'ISO 8601 instant in UTC, e.g. 2023-01-05T10:00:00Z' });

const strict = { additionalProperties: false } as const;
const Text = (description: string) =>
  Type.String({ minLength: 1, maxLength: 2000, pattern: TEXT_PATTERN, description });

/** What proves how consent was given; the same on a PUT, an import line and a history entry. */
const proofProperties = {
  notice: Type.Optional(Text('id or URL of the notice the subject was shown')),
  noticeVersion: Type.Optional(Text('version of that notice')),
  source: Type.Optional(Text('who or where the consent came from: a front end, a CMP, a file')),
  method: Type.Optional(Text('how it was given: web-form, checkbox, api, import, tcf, …')),
  channel: Type.Optional(Text('web, app, email, phone, in-person, …')),
  url: Type.Optional(Text('the page where it was given')),
};

/** An IAB TCF v2.2 TC string, the proof a CMP gives of the subject's choices (docs/consent.md). */
const TcString = Type.String({
  minLength: 1,
  maxLength: 10_000,
  description: 'IAB TCF v2.2 TC string as a CMP stores it (base64url segments joined by ".")',
});

export const ConsentInput = Type.Object(
  {
    /**
     * Purpose key → true (granted) or false (withdrawn); keys must be in the purpose taxonomy.
     * With `tcString`, a key named here wins over the one the string maps to.
     */
    purposes: Type.Optional(
      Type.Record(Type.String(), Type.Boolean(), {
        description: 'purpose key (e.g. marketing.email) → granted (true) or withdrawn (false)',
      }),
    ),
    /** Mapped to purpose keys through the TCF table of docs/consent.md, dated by its lastUpdated. */
    tcString: Type.Optional(TcString),
    ...proofProperties,
    /** When the subject gave or withdrew it; now when absent; never in the future. */
    at: Type.Optional(Instant),
  },
  strict,
);
export type ConsentInput = Static<typeof ConsentInput>;

/** One grant or withdrawal as recorded. */
export const ConsentRecord = Type.Object({
  id: Type.String(),
  subject: Type.String(),
  purpose: Type.String(),
  granted: Type.Boolean(),
  at: Instant,
  recordedAt: Instant,
  /** The principal that recorded it: token subject and role. */
  recordedBy: Type.Object({ id: Type.String(), role: Type.String() }),
  ...proofProperties,
  /** The TC string this grant or withdrawal was read from (method `tcf`). */
  tcString: Type.Optional(TcString),
});
export type ConsentRecord = Static<typeof ConsentRecord>;

export const ConsentPurposeState = Type.Object({
  granted: Type.Boolean(),
  /** When the current state began: the grant that opened it, or the withdrawal that ended it. */
  since: Instant,
  /** Start of the latest grant interval, if ever granted. */
  grantedAt: Type.Optional(Instant),
  /** End of that interval, if withdrawn since. */
  withdrawnAt: Type.Optional(Instant),
});
export type ConsentPurposeState = Static<typeof ConsentPurposeState>;

export const SubjectConsent = Type.Object({
  subject: Type.String(),
  purposes: Type.Record(Type.String(), ConsentPurposeState),
  /** Every grant and withdrawal, in the order they count (by `at`, then by recording). */
  history: Type.Array(ConsentRecord),
});
export type SubjectConsent = Static<typeof SubjectConsent>;

export const ConsentWriteResult = Type.Object({
  subject: Type.String(),
  purposes: Type.Record(Type.String(), ConsentPurposeState),
  /** The events this request recorded. */
  recorded: Type.Array(ConsentRecord),
  /** Subject-fields whose expiry moved. */
  recomputed: Type.Integer(),
});
export type ConsentWriteResult = Static<typeof ConsentWriteResult>;

export const ConsentImportResult = Type.Object({
  /** Grants and withdrawals recorded. */
  recorded: Type.Integer(),
  subjects: Type.Integer(),
  recomputed: Type.Integer(),
  rejected: Type.Array(LineRejection),
});
export type ConsentImportResult = Static<typeof ConsentImportResult>;

export const ConsentViolation = Type.Object({
  /** The subject id, or a pseudonym for an auditor without the subject-ids grant. */
  subject: Type.String(),
  policy: Type.String(),
  system: Type.String(),
  purpose: Type.String(),
  firstAt: Instant,
  lastAt: Instant,
  count: Type.Integer(),
});
export type ConsentViolation = Static<typeof ConsentViolation>;

export const ConsentViolationQuery = Type.Object(
  {
    subject: Type.Optional(SubjectId),
    policy: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    system: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** Only violations whose latest use is at or after this instant. */
    after: Type.Optional(Instant),
    limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 10_000 })),
    /** Skip this many (page numbers); `cursor` instead continues from a page's last row. */
    offset: Type.Optional(QueryInteger({ minimum: 0, maximum: 100_000 })),
    cursor: Type.Optional(Type.String()),
  },
  strict,
);
export type ConsentViolationQuery = Static<typeof ConsentViolationQuery>;

export const ConsentViolationPage = Type.Object({
  items: Type.Array(ConsentViolation),
  next: Type.Optional(Type.String()),
  /** How many violations match the filter, over every page. */
  total: Type.Optional(Type.Integer()),
});
export type ConsentViolationPage = Static<typeof ConsentViolationPage>;
