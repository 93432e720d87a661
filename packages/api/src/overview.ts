import { Type, type Static } from '@sinclair/typebox';
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

export const Overview = Type.Object({
  counts: OverviewCounts,
  /** Every day from today (UTC) for `days` days, zeros included, oldest first. */
  expiriesPerDay: Type.Array(ExpiryDay),
  generatedAt: Instant,
});
export type Overview = Static<typeof Overview>;

export const OVERVIEW_EXPIRY_DAYS = 90;
