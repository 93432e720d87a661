import { foldWebhookEvents } from '../../webhooks/fold-events.js';
import { emitWebhookEvent } from '../../webhooks/webhook-outbox.js';
import { Repository } from '../repository.js';
import { sql, type Kysely } from 'kysely';
import { NO_CONSENT, type ConsentWindow } from '../../consent/consent.js';
import { decodeJournalRow, type JournalEvent } from '../../retention/journal/journal-codec.js';
import { consentKey, consentKeys, type ConsentLookup } from '../../retention/usage-batch.js';
import type { Database } from '../schema.js';
import type { FoldResult, JournalBacklog } from '../store.js';
import { bigintArray, textArray } from './array-literal.js';
import { aggregateFold } from './fold-aggregate.js';
import { agedPairs, agedRefresh } from '../../retention/aging/aged-refresh.js';
import { FOLD_PARTITIONS } from './fold-partitions.js';

/**
 * The advisory locks of the fold: (FOLD_LOCK_CLASS, 100 + partition) for one partition's fold,
 * and (FOLD_LOCK_CLASS, 1), which builds without partitions took for the whole journal: a
 * partition's fold holds it shared, so such a node (during a rolling upgrade) and this one never
 * fold at once. The locks only keep folds from waiting on each other's rows: a row is claimed by
 * deleting it (below), so it is never folded twice whatever the locks.
 */
const FOLD_LOCK_CLASS = 1279607880;
const WHOLE_JOURNAL_LOCK = 1;
const PARTITION_LOCK_BASE = 100;

export interface PostgresFoldOptions {
  readonly partition: number;
  readonly maxEvents: number;
  /** Only rows up to this position (a drain for a read need not chase appends after it). */
  readonly upTo?: number;
  /** Wait for another fold of the partition to end (a drain) rather than leave the work to it. */
  readonly wait: boolean;
}

/**
 * One partition's fold on PostgreSQL, in the caller's transaction: under the partition's lock,
 * deletes its oldest usage-journal rows (whole rows, about `maxEvents` events, in one statement
 * that returns them), aggregates their events and applies them with one statement per table,
 * rows passed as arrays and expanded with `unnest`. Deleting first is what claims the rows: a
 * concurrent fold that picked the same rows finds them gone once this one commits and folds
 * nothing of them. Sequence order is not commit order here, so nothing is tracked by position:
 * the journal holds exactly what is not folded yet. Expiries only move later on ingest, so the
 * upserts keep the greatest value.
 */
export async function foldPostgres(tx: Kysely<Database>, options: PostgresFoldOptions): Promise<FoldResult> {
  if (!(await lockPartition(tx, options.partition, options.wait))) return { rows: 0, events: 0 };
  const upTo = options.upTo ?? Number.MAX_SAFE_INTEGER;
  const { rows } = await sql<{ seq: number; payload: Buffer }>`
    delete from usage_journal where seq in (
      select seq from (
        select seq, sum(events) over (order by seq) - events as before
        from usage_journal where part = ${options.partition} and seq <= ${upTo}) as oldest
      where before < ${options.maxEvents})
    returning seq, payload`.execute(tx);
  if (rows.length === 0) return { rows: 0, events: 0 };
  rows.sort((a, b) => a.seq - b.seq);
  const events: JournalEvent[] = [];
  for (const row of rows) decodeJournalRow(row.payload, events);
  await applyPostgres(tx, events);
  return { rows: rows.length, events: events.length };
}

/**
 * Takes every partition's lock, waiting, in one order: a transaction that must see every event
 * (a drain inside `Store.transaction`) holds them all before it writes, so it never waits for a
 * lock while holding rows a fold needs.
 */
export async function lockAllPartitions(tx: Kysely<Database>): Promise<void> {
  for (let partition = 0; partition < FOLD_PARTITIONS; partition += 1)
    await lockPartition(tx, partition, true);
}

async function lockPartition(tx: Kysely<Database>, partition: number, wait: boolean): Promise<boolean> {
  const key = PARTITION_LOCK_BASE + partition;
  if (wait) {
    await sql`select pg_advisory_xact_lock_shared(${FOLD_LOCK_CLASS}, ${WHOLE_JOURNAL_LOCK}),
      pg_advisory_xact_lock(${FOLD_LOCK_CLASS}, ${key})`.execute(tx);
    return true;
  }
  const { rows } = await sql<{ locked: boolean }>`
    select pg_try_advisory_xact_lock_shared(${FOLD_LOCK_CLASS}, ${WHOLE_JOURNAL_LOCK})
      and pg_try_advisory_xact_lock(${FOLD_LOCK_CLASS}, ${key}) as locked`.execute(tx);
  return rows[0]?.locked === true;
}

/** The partitions that hold rows and the journal's last position, for a drain up to the call. */
export async function journalPositions(
  db: Kysely<Database>,
): Promise<{ partitions: number[]; upTo: number }> {
  const { rows } = await sql<{ part: number; seq: number }>`
    select part, max(seq) as seq from usage_journal group by part`.execute(db);
  return { partitions: rows.map((row) => row.part), upTo: Math.max(0, ...rows.map((row) => row.seq)) };
}

export async function postgresJournalBacklog(db: Kysely<Database>): Promise<JournalBacklog> {
  const { rows } = await sql<{ rows: number; events: number | null; oldest: number | null }>`
    select count(*) as rows, sum(events)::bigint as events, min(appended_at) as oldest
    from usage_journal`.execute(db);
  const row = rows[0];
  return { rows: row?.rows ?? 0, events: row?.events ?? 0, oldestAt: row?.oldest ?? undefined };
}

async function applyPostgres(tx: Kysely<Database>, events: readonly JournalEvent[]): Promise<void> {
  const { usages, violations, fields, subjects, links } = aggregateFold(
    events,
    await lookupConsent(tx, events),
  );
  if (usages.subject.length) {
    await sql`
      insert into usages (subject, field, policy, first_use_at, last_use_at, use_count, last_system,
        last_consented_use_at)
      select * from unnest(${textArray(usages.subject)}::text[], ${textArray(usages.field)}::text[], ${textArray(usages.policy)}::text[],
        ${bigintArray(usages.firstUseAt)}::bigint[], ${bigintArray(usages.lastUseAt)}::bigint[], ${bigintArray(usages.count)}::bigint[],
        ${textArray(usages.lastSystem)}::text[], ${bigintArray(usages.lastConsentedUseAt)}::bigint[])
      on conflict (subject, field, policy) do update set
        first_use_at = least(usages.first_use_at, excluded.first_use_at),
        last_consented_use_at = greatest(usages.last_consented_use_at, excluded.last_consented_use_at),
        last_system = case when excluded.last_use_at >= usages.last_use_at
          then excluded.last_system else usages.last_system end,
        last_use_at = greatest(usages.last_use_at, excluded.last_use_at),
        use_count = usages.use_count + excluded.use_count`.execute(tx);
  }
  if (violations.subject.length) {
    await sql`
      insert into consent_violations (subject, policy, system, purpose, first_at, last_at, use_count)
      select * from unnest(${textArray(violations.subject)}::text[], ${textArray(violations.policy)}::text[],
        ${textArray(violations.system)}::text[], ${textArray(violations.purpose)}::text[], ${bigintArray(violations.firstAt)}::bigint[],
        ${bigintArray(violations.lastAt)}::bigint[], ${bigintArray(violations.count)}::bigint[])
      on conflict (subject, policy, system) do update set
        first_at = least(consent_violations.first_at, excluded.first_at),
        last_at = greatest(consent_violations.last_at, excluded.last_at),
        use_count = consent_violations.use_count + excluded.use_count`.execute(tx);
  }
  let reappeared = new Map<string, number>();
  if (fields.subject.length) {
    // The fields that came back after their erasure: set by this fold's use (the same instant
    // again would be a replay), counted per system for the webhook events.
    const { rows } = await sql<{ system: string; fields: number }>`
      with input as (
        select * from unnest(${textArray(fields.subject)}::text[], ${textArray(fields.field)}::text[], ${bigintArray(fields.expiresAt)}::bigint[],
          ${textArray(fields.policy)}::text[], ${textArray(fields.system)}::text[], ${bigintArray(fields.lastUseAt)}::bigint[])
          as t (subject, field, expires_at, policy, system, last_use_at)
      ), upserted as (
      insert into field_expiries (subject, field, expires_at, policy, system, last_use_at)
      select * from input
      on conflict (subject, field) do update set
        policy = case when field_expiries.expire_now_at is null and excluded.expires_at > field_expiries.expires_at
          then excluded.policy else field_expiries.policy end,
        system = case when field_expiries.expire_now_at is null and excluded.expires_at > field_expiries.expires_at
          then excluded.system else field_expiries.system end,
        -- Expire now: a DPO's decision is never moved later by a use (docs/retention.md).
        expires_at = case when field_expiries.expire_now_at is null
          then greatest(field_expiries.expires_at, excluded.expires_at) else field_expiries.expires_at end,
        last_use_at = greatest(field_expiries.last_use_at, excluded.last_use_at),
        reappeared_at = case
          when field_expiries.erased_at is not null and excluded.last_use_at > field_expiries.erased_at
            and field_expiries.reappeared_at is null
          then excluded.last_use_at else field_expiries.reappeared_at end
      -- Older uses change nothing: no new row version, no WAL.
      -- (an expiry a DPO decided is not moved, so a later one changes nothing either).
      where (field_expiries.expire_now_at is null and excluded.expires_at > field_expiries.expires_at)
        or excluded.last_use_at > field_expiries.last_use_at
        or (field_expiries.erased_at is not null and field_expiries.reappeared_at is null
          and excluded.last_use_at > field_expiries.erased_at)
      returning subject, field, system, reappeared_at
      )
      select u.system, count(*)::int as fields from upserted u
      join input i on i.subject = u.subject and i.field = u.field
      where u.reappeared_at = i.last_use_at
      group by u.system`.execute(tx);
    reappeared = new Map(rows.map((row) => [row.system, Number(row.fields)]));
  }
  if (subjects.subject.length) {
    await sql`
      insert into subject_expiries (subject, expires_at, field, policy, system)
      select * from unnest(${textArray(subjects.subject)}::text[], ${bigintArray(subjects.expiresAt)}::bigint[],
        ${textArray(subjects.field)}::text[], ${textArray(subjects.policy)}::text[], ${textArray(subjects.system)}::text[])
      on conflict (subject) do update set
        field = excluded.field, policy = excluded.policy, system = excluded.system,
        expires_at = excluded.expires_at
      where excluded.expires_at > subject_expiries.expires_at`.execute(tx);
    // A decided field's use may have raised the subject above its fields: back to their latest.
    await sql`
      update subject_expiries s set (expires_at, field, policy, system) = (
        select f.expires_at, f.field, f.policy, f.system from field_expiries f
        where f.subject = s.subject order by f.expires_at desc, f.field limit 1)
      where s.subject in (select d.subject from field_expiries d
        where d.expire_now_at is not null and d.subject = any(${textArray(subjects.subject)}::text[]))`.execute(
      tx,
    );
  }
  const violationRows = violations.system.map((system, index) => ({
    subject: violations.subject[index] as string,
    system,
    policy: violations.policy[index] as string,
    count: violations.count[index] as number,
  }));
  const webhookEvents = foldWebhookEvents(violationRows, reappeared);
  if (webhookEvents.length > 0) {
    const repository = new Repository(tx);
    const now = Date.now();
    for (const event of webhookEvents) await emitWebhookEvent(repository, event, now);
  }
  await refreshAgedFields(tx, usages);
  // Last: the one table that folds of other partitions write too, so its row locks are held for
  // the shortest time, and taken in one order (the rows are sorted).
  if (links.system.length) {
    await sql`
      insert into usage_links (system, field, policy, first_use_at, last_use_at, use_count)
      select * from unnest(${textArray(links.system)}::text[], ${textArray(links.field)}::text[], ${textArray(links.policy)}::text[],
        ${bigintArray(links.firstUseAt)}::bigint[], ${bigintArray(links.lastUseAt)}::bigint[], ${bigintArray(links.count)}::bigint[])
      on conflict (system, field, policy) do update set
        first_use_at = least(usage_links.first_use_at, excluded.first_use_at),
        last_use_at = greatest(usage_links.last_use_at, excluded.last_use_at),
        use_count = usage_links.use_count + excluded.use_count`.execute(tx);
  }
}

/**
 * Aging strategies (docs/retention.md, "Aging"): the subject-fields folded under a policy that
 * does not age from the last use are recomputed exactly from their usages, in this transaction.
 * One small query per fold when no such policy exists.
 */
async function refreshAgedFields(
  tx: Kysely<Database>,
  usages: { subject: readonly string[]; field: readonly string[]; policy: readonly string[] },
): Promise<void> {
  if (usages.subject.length === 0) return;
  const aged = await tx.selectFrom('policies').select('name').where('since', '<>', 'last-use').execute();
  if (aged.length === 0) return;
  const rows = usages.subject.map((subject, i) => ({
    subject,
    field: usages.field[i] as string,
    policy: usages.policy[i] as string,
  }));
  const pairs = agedPairs(rows, new Set(aged.map((row) => row.name)));
  if (pairs.length === 0) return;
  const subjects = [...new Set(pairs.map((pair) => pair.subject))];
  const [policies, usageRows, fieldRows, consent, events] = await Promise.all([
    tx.selectFrom('policies').select(['name', 'retention', 'since', 'legal_basis', 'purpose']).execute(),
    tx.selectFrom('usages').selectAll().where('subject', 'in', subjects).execute(),
    tx.selectFrom('field_expiries').selectAll().where('subject', 'in', subjects).execute(),
    tx
      .selectFrom('consent_states')
      .select(['subject', 'purpose', 'granted_at', 'withdrawn_at'])
      .where('subject', 'in', subjects)
      .execute(),
    tx
      .selectFrom('subject_events')
      .select(['subject', 'name', (eb) => eb.fn.min<number>('at').as('at')])
      .where('subject', 'in', subjects)
      .groupBy(['subject', 'name'])
      .execute(),
  ]);
  const eventsBySubject = new Map<string, Map<string, number>>();
  for (const row of events) {
    const names = eventsBySubject.get(row.subject) ?? new Map<string, number>();
    names.set(row.name, Number(row.at));
    eventsBySubject.set(row.subject, names);
  }
  const refresh = agedRefresh({
    policies,
    pairs,
    usages: usageRows,
    fieldRows,
    consent,
    events: eventsBySubject,
  });
  for (const f of refresh.fields) {
    await tx
      .updateTable('field_expiries')
      .set({ expires_at: f.expiresAt, policy: f.policy, system: f.system })
      .where('subject', '=', f.subject)
      .where('field', '=', f.field)
      .execute();
  }
  if (refresh.subjects.length) {
    await sql`
      update subject_expiries s set (expires_at, field, policy, system) = (
        select f.expires_at, f.field, f.policy, f.system from field_expiries f
        where f.subject = s.subject order by f.expires_at desc, f.field limit 1)
      where s.subject = any(${textArray(refresh.subjects)}::text[])`.execute(tx);
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
