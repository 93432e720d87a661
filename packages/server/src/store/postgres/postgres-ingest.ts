import { sql, type Kysely } from 'kysely';
import { NO_CONSENT, type ConsentWindow } from '../../consent/consent.js';
import {
  aggregateBatch,
  consentKey,
  consentKeys,
  type AcceptedEvent,
  type ConsentLookup,
} from '../../retention/usage-batch.js';
import { AuditQueries } from '../../audit/audit-queries.js';
import type { Database } from '../schema.js';
import type { IngestBatch, IngestOutcome } from '../store.js';

/**
 * The ingest hot path on PostgreSQL: one statement per table per group of batches, rows passed as
 * arrays and expanded with `unnest`, so thousands of events cost a handful of round trips.
 * Expiries only move later on ingest, so the upserts keep the greatest value.
 */
export async function ingestPostgresGroup(
  tx: Kysely<Database>,
  batches: readonly IngestBatch[],
  catalogVersion: number,
): Promise<IngestOutcome[]> {
  const current = batches.filter((batch) => batch.catalogVersion === catalogVersion);
  const { fresh, duplicates } = await claimEventIds(tx, current);
  const consent = await lookupConsent(tx, fresh);
  const { usages, violations, fields, subjects, links } = aggregateBatch(fresh, consent);

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
  // Last, so that the audit head's row lock is held only until the commit.
  await new AuditQueries(tx).append(current.map((batch) => batch.audit));
  return batches.map((batch): IngestOutcome => {
    const own = duplicates.get(batch);
    return own ? { kind: 'committed', duplicates: own } : { kind: 'stale-catalog' };
  });
}

/**
 * The consent windows the events need, in one statement. `for share` makes a concurrent
 * withdrawal (which updates the row, then recomputes in its transaction) either wait for this
 * group's commit or be seen by it: the two never interleave. A (subject, purpose) without a row
 * has no consent; a first grant racing with this group can only make its uses count as violations.
 */
async function lookupConsent(tx: Kysely<Database>, events: readonly AcceptedEvent[]): Promise<ConsentLookup> {
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

/** Records the batches' event ids; events whose id was already known (or came earlier) are duplicates. */
async function claimEventIds(tx: Kysely<Database>, batches: readonly IngestBatch[]) {
  const events = batches.flatMap((batch) => batch.events);
  const ids = [...new Set(events.flatMap((event) => (event.id === undefined ? [] : [event.id])))].sort();
  const claimed = new Set<string>();
  if (ids.length) {
    const { rows } = await sql<{ id: string }>`
      insert into event_ids (id, received_at)
      select unnest(${ids}::text[]), ${Date.now()}::bigint
      on conflict (id) do nothing
      returning id`.execute(tx);
    for (const row of rows) claimed.add(row.id);
  }
  const fresh: AcceptedEvent[] = [];
  const duplicates = new Map<IngestBatch, number[]>();
  for (const batch of batches) {
    const own: number[] = [];
    batch.events.forEach((event, index) => {
      if (event.id === undefined || claimed.delete(event.id)) fresh.push(event);
      else own.push(index);
    });
    duplicates.set(batch, own);
  }
  return { fresh, duplicates };
}
