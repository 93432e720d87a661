import { Type, type Static } from 'typebox';
import { Instant } from './common.js';

/** What the dashboard's overview shows at a glance; counts only, no subject ids. */
export const OverviewCounts = Type.Object({
  /** People Lethe holds data about (with an expiry). */
  subjects: Type.Integer(),
  /** Declared fields across every system's datasets. */
  fields: Type.Integer(),
  systems: Type.Integer(),
  /** Rights requests still owed an answer. */
  openRequests: Type.Integer(),
  /** Open requests past their due date. */
  overdueRequests: Type.Integer(),
  /** Open requests not yet overdue but due within the next 7 days (`OVERVIEW_DUE_SOON_DAYS`). */
  dueSoonRequests: Type.Integer(),
  /** Subject fields used again after a confirmed erasure. */
  reappearances: Type.Integer(),
  /** Uses without the consent their policy needs, counted per (subject, policy, system) (docs/consent.md). */
  consentViolations: Type.Integer(),
});
export type OverviewCounts = Static<typeof OverviewCounts>;

export const ExpiryDay = Type.Object({
  day: Type.String({ description: 'YYYY-MM-DD (UTC)' }),
  /** Subject fields (one person's one field) that expire that day; erased ones left out unless used again since. */
  fields: Type.Integer(),
  /** People whose data (every field of them) expires that day. */
  subjects: Type.Integer(),
});
export type ExpiryDay = Static<typeof ExpiryDay>;

/**
 * One system's subject fields whose expiry has passed and that are still to be deleted: not erased
 * since (or used again after the erasure). Fields a legal hold keeps are not due, so they are
 * left out of `fields`, `subjects` and `oldestExpiresAt`, and counted apart in `heldFields`.
 */
export const PastExpiry = Type.Object({
  system: Type.String(),
  /** Subject fields (one person's one field) of the system past their expiry, held ones left out. */
  fields: Type.Integer(),
  /** People those fields belong to. */
  subjects: Type.Integer(),
  /** The expiry of the oldest of them; absent when every such field is held. */
  oldestExpiresAt: Type.Optional(Instant),
  /** Whole days since `oldestExpiresAt` (0 on the day it passed). */
  daysLate: Type.Integer(),
  /** Fields past their expiry that a legal hold keeps (not due, not counted above). */
  heldFields: Type.Integer(),
});
export type PastExpiry = Static<typeof PastExpiry>;

export const Overview = Type.Object({
  /**
   * Every figure over all systems and categories; absent for a token limited to one system (a
   * service) or to some categories, which gets its own `pastExpiry` and `expiriesPerDay` only.
   */
  counts: Type.Optional(OverviewCounts),
  /** Per system with fields past their expiry (held ones included), the latest first (most days late). */
  pastExpiry: Type.Array(PastExpiry),
  /**
   * Every day from today (UTC) for `days` days, zeros included, oldest first. For a limited token
   * over the fields it may see, `subjects` then counting people with one of them expiring that day.
   */
  expiriesPerDay: Type.Array(ExpiryDay),
  generatedAt: Instant,
});
export type Overview = Static<typeof Overview>;

export const OVERVIEW_EXPIRY_DAYS = 90;
/** How far ahead `dueSoonRequests` looks. */
export const OVERVIEW_DUE_SOON_DAYS = 7;
