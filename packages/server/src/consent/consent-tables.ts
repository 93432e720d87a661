/**
 * Consent: the history, the state derived from it, and uses made without it. Row types as Kysely sees
 * them; `store/schema.ts` joins every feature's tables into `Database`.
 */
export interface ConsentTables {
  consent_events: ConsentEventRow;
  consent_states: ConsentStateRow;
  consent_violations: ConsentViolationRow;
}

/** One grant or withdrawal of consent, with what proves it (GDPR Art. 7(1)); never updated. */
export interface ConsentEventRow {
  id: string;
  subject: string;
  purpose: string;
  /** 1 for a grant, 0 for a withdrawal. */
  granted: number;
  /** When the subject gave or withdrew consent. */
  at: number;
  recorded_at: number;
  /** Position within one recording request, to order events of the same millisecond. */
  seq: number;
  /** The principal that recorded it (token subject) and its role. */
  recorded_by: string;
  recorder_role: string;
  /** Who or where the consent came from (a front end, a CMP, an import file). */
  source: string | null;
  /** Id or URL of the notice shown to the subject, and its version. */
  notice: string | null;
  notice_version: string | null;
  /** How it was given: web-form, checkbox, api, import, tcf… */
  method: string | null;
  channel: string | null;
  url: string | null;
  /** The IAB TCF string it was decoded from, kept as proof. */
  tc_string: string | null;
}

/** Per (subject, purpose): the latest grant interval, derived from the history. */
export interface ConsentStateRow {
  subject: string;
  purpose: string;
  granted_at: number | null;
  withdrawn_at: number | null;
  changed_at: number;
  last_event_id: string;
}

/** Per (subject, policy, system): uses under a consent-based policy made without consent. */
export interface ConsentViolationRow {
  subject: string;
  policy: string;
  system: string;
  purpose: string;
  first_at: number;
  last_at: number;
  use_count: number;
}
