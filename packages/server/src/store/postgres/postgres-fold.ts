import { sql, type Kysely } from 'kysely';
import { NO_CONSENT, type ConsentWindow } from '../../consent/consent.js';
import { decodeJournalRow, type JournalEvent } from '../../retention/journal/journal-codec.js';
import { aggregateBatch, consentKey, consentKeys, type ConsentLookup } from '../../retention/usage-batch.js';
import type { Database } from '../schema.js';
import type { FoldResult, JournalBacklog } from '../store.js';

/** The advisory lock every node's fold takes: folds never run twice at once. */
const FOLD_LOCK = sql`1279607880, 1`;
const ROWS_PER_READ = 64;

export interface PostgresFoldOptions {
  readonly maxEvents: number;
  /** Only rows up to this position (a drain for a read need not chase appends after it). */
  readonly upTo?: number;
  /** Wait for another node's fold to end (a drain) rather than leave the work to it. */
  readonly wait: boolean;
}

/**
 * The fold on PostgreSQL, in the caller's transaction: under the fold lock, reads the oldest
 * usage-journal rows, aggregates their events and applies them with one statement per table,
 * rows passed as arrays and expanded with `unnest`, then deletes the rows. Sequence order is not
 * commit order here, so nothing is tracked by position: the journal holds exactly what is not
 * folded yet. Expiries only move later on ingest, so the upserts keep the greatest value.
 */
export async function foldPostgres(tx: Kysely<Database>, options: PostgresFoldOptions): Promise<FoldResult> {
  if (options.wait) await sql`select pg_advisory_xact_lock(${FOLD_LOCK})`.execute(tx);
  else {
    const { rows } = await sql<{ locked: boolean }>`
      select pg_try_advisory_xact_lock(${FOLD_LOCK}) as locked`.execute(tx);
    if (!rows[0]?.locked) return { rows: 0, events: 0 };
  }
  const upTo = options.upTo ?? Number.MAX_SAFE_INTEGER;
  const events: JournalEvent[] = [];
  const seqs: number[] = [];
  let after = 0;
  while (events.length < options.maxEvents) {
    const { rows } = await sql<{ seq: number; payload: Buffer }>`
      select seq, payload from usage_journal where seq > ${after} and seq <= ${upTo}
      order by seq limit ${ROWS_PER_READ}`.execute(tx);
    for (const row of rows) {
      decodeJournalRow(row.payload, events);
      seqs.push(row.seq);
      after = row.seq;
      if (events.length >= options.maxEvents) break;
    }
    if (rows.length < ROWS_PER_READ) break;
  }
  if (seqs.length === 0) return { rows: 0, events: 0 };
  await applyPostgres(tx, events);
  await sql`delete from usage_journal where seq = any(${seqs}::bigint[])`.execute(tx);
  return { rows: seqs.length, events: events.length };
}

/** The journal's last position, for a drain that folds up to the call. */
export async function lastJournalPosition(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ seq: number | null }>`select max(seq) as seq from usage_journal`.execute(db);
  return rows[0]?.seq ?? 0;
}

export async function postgresJournalBacklog(db: Kysely<Database>): Promise<JournalBacklog> {
  const { rows } = await sql<{ rows: number; events: number | null; oldest: number | null }>`
    select count(*) as rows, sum(events)::bigint as events, min(appended_at) as oldest
    from usage_journal`.execute(db);
  const row = rows[0];
  return { rows: row?.rows ?? 0, events: row?.events ?? 0, oldestAt: row?.oldest ?? undefined };
}

async function applyPostgres(tx: Kysely<Database>, events: readonly JournalEvent[]): Promise<void> {
  const consent = await lookupConsent(tx, events);
  const { usages, violations, fields, subjects, links } = aggregateBatch(events, consent);
  if (usages.length) {
    await sql`
      insert into usages (subject, field, policy, first_use_at, last_use_at, use_count, last_system,
        last_consented_use_at)
      select * from unnest(${usages.map((u) => u.subject)}::text[], ${usages.map((u) => u.field)}::text[],
        ${usages.map((u) => u.policy)}::text[], ${usages.map((u) => u.firstUseAt)}::bigint[],
        ${usages.map((u) => u.lastUseAt)}::bigint[], ${usages.map((u) => u.count)}::bigint[],
        ${usages.map((u) => u.lastSystem)}::text[], ${usages.map((u) => u.lastConsentedUseAt)}::bigint[])
      on conflict (subject, field, policy) do update set
        first_use_at = least(usages.first_use_at, excluded.first_use_at),
        last_consented_use_at = greatest(usages.last_consented_use_at, excluded.last_consented_use_at),
        last_system = case when excluded.last_use_at >= usages.last_use_at
          then excluded.last_system else usages.last_system end,
        last_use_at = greatest(usages.last_use_at, excluded.last_use_at),
        use_count = usages.use_count + excluded.use_count`.execute(tx);
  }
  if (violations.length) {
    await sql`
      insert into consent_violations (subject, policy, system, purpose, first_at, last_at, use_count)
      select * from unnest(${violations.map((v) => v.subject)}::text[], ${violations.map((v) => v.policy)}::text[],
        ${violations.map((v) => v.system)}::text[], ${violations.map((v) => v.purpose)}::text[],
        ${violations.map((v) => v.firstAt)}::bigint[], ${violations.map((v) => v.lastAt)}::bigint[],
        ${violations.map((v) => v.count)}::bigint[])
      on conflict (subject, policy, system) do update set
        first_at = least(consent_violations.first_at, excluded.first_at),
        last_at = greatest(consent_violations.last_at, excluded.last_at),
        use_count = consent_violations.use_count + excluded.use_count`.execute(tx);
  }
  if (fields.length) {
    await sql`
      insert into field_expiries (subject, field, expires_at, policy, system, last_use_at)
      select * from unnest(${fields.map((f) => f.subject)}::text[], ${fields.map((f) => f.field)}::text[],
        ${fields.map((f) => f.expiresAt)}::bigint[], ${fields.map((f) => f.policy)}::text[],
        ${fields.map((f) => f.system)}::text[], ${fields.map((f) => f.lastUseAt)}::bigint[])
      on conflict (subject, field) do update set
        policy = case when excluded.expires_at > field_expiries.expires_at
          then excluded.policy else field_expiries.policy end,
        system = case when excluded.expires_at > field_expiries.expires_at
          then excluded.system else field_expiries.system end,
        expires_at = greatest(field_expiries.expires_at, excluded.expires_at),
        last_use_at = greatest(field_expiries.last_use_at, excluded.last_use_at),
        reappeared_at = case
          when field_expiries.erased_at is not null and excluded.last_use_at > field_expiries.erased_at
            and field_expiries.reappeared_at is null
          then excluded.last_use_at else field_expiries.reappeared_at end`.execute(tx);
  }
  if (subjects.length) {
    await sql`
      insert into subject_expiries (subject, expires_at, field, policy, system)
      select * from unnest(${subjects.map((s) => s.subject)}::text[], ${subjects.map((s) => s.expiresAt)}::bigint[],
        ${subjects.map((s) => s.field)}::text[], ${subjects.map((s) => s.policy)}::text[],
        ${subjects.map((s) => s.system)}::text[])
      on conflict (subject) do update set
        field = case when excluded.expires_at > subject_expiries.expires_at
          then excluded.field else subject_expiries.field end,
        policy = case when excluded.expires_at > subject_expiries.expires_at
          then excluded.policy else subject_expiries.policy end,
        system = case when excluded.expires_at > subject_expiries.expires_at
          then excluded.system else subject_expiries.system end,
        expires_at = greatest(subject_expiries.expires_at, excluded.expires_at)`.execute(tx);
  }
  if (links.length) {
    await sql`
      insert into usage_links (system, field, policy, first_use_at, last_use_at, use_count)
      select * from unnest(${links.map((l) => l.system)}::text[], ${links.map((l) => l.field)}::text[],
        ${links.map((l) => l.policy)}::text[], ${links.map((l) => l.firstUseAt)}::bigint[],
        ${links.map((l) => l.lastUseAt)}::bigint[], ${links.map((l) => l.count)}::bigint[])
      on conflict (system, field, policy) do update set
        first_use_at = least(usage_links.first_use_at, excluded.first_use_at),
        last_use_at = greatest(usage_links.last_use_at, excluded.last_use_at),
        use_count = usage_links.use_count + excluded.use_count`.execute(tx);
  }
}

/**
 * The consent windows the events need, in one statement. `for share` makes a concurrent
 * withdrawal (which updates the row, then recomputes in its transaction) either wait for this
 * group's commit or be seen by it: the two never interleave. A (subject, purpose) without a row
 * has no consent; a first grant racing with this group can only make its uses count as violations.
 */
async function lookupConsent(tx: Kysely<Database>, events: readonly JournalEvent[]): Promise<ConsentLookup> {
  const keys = consentKeys(events);
  const windows = new Map<string, ConsentWindow>();
  if (keys.length) {
    const { rows } = await sql<{
      subject: string;
      purpose: string;
      granted_at: number | null;
      withdrawn_at: number | null;
    }>`
      select subject, purpose, granted_at, withdrawn_at from consent_states
      where (subject, purpose) in (
        select * from unnest(${keys.map((k) => k.subject)}::text[], ${keys.map((k) => k.purpose)}::text[]))
      order by subject, purpose
      for share`.execute(tx);
    for (const row of rows) {
      windows.set(consentKey(row.subject, row.purpose), {
        grantedAt: row.granted_at,
        withdrawnAt: row.withdrawn_at,
      });
    }
  }
  return (subject, purpose) => windows.get(consentKey(subject, purpose)) ?? NO_CONSENT;
}
