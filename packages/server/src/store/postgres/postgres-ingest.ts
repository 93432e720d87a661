import { sql, type Kysely } from 'kysely';
import { AuditQueries } from '../../audit/audit-queries.js';
import { encodeJournalRow } from '../../retention/journal/journal-codec.js';
import type { AcceptedEvent } from '../../retention/usage-batch.js';
import type { Database } from '../schema.js';
import type { IngestBatch, IngestOutcome } from '../store.js';
import { textArray } from './array-literal.js';
import { byPartition } from './fold-partitions.js';

/**
 * The ingest hot path on PostgreSQL: one transaction per group of batches records the event ids
 * (dedupe, one statement), appends the accepted events to the usage journal as one row per fold
 * partition (`fold-partitions.ts`) in one statement and chains the audit entries. The aggregates are the fold's work (`postgres-fold.ts`).
 *
 * `for share` on the catalog version and the event-id horizon: other nodes' groups may run at
 * once, but never while a policy change recomputes expiries with a new retention, nor while
 * event ids are being forgotten (both update those rows first).
 */
export async function appendPostgresGroup(
  tx: Kysely<Database>,
  batches: readonly IngestBatch[],
): Promise<IngestOutcome[]> {
  const { rows } = await sql<{ key: string; value: string }>`
    select key, value from meta where key in ('catalog_version', 'event_id_horizon')
    order by key for share`.execute(tx);
  const meta = new Map(rows.map((row) => [row.key, Number(row.value)]));
  const version = meta.get('catalog_version');
  const horizon = meta.get('event_id_horizon') ?? -Infinity;
  const current = batches.filter((batch) => batch.catalogVersion === version);
  const forgotten = new Map(
    current.map((batch) => [
      batch,
      batch.events.flatMap((event, index) => (event.id !== undefined && event.at < horizon ? [index] : [])),
    ]),
  );
  const { fresh, duplicates } = await claimEventIds(tx, current, forgotten);
  if (fresh.length) {
    const appendedAt = Date.now();
    const rows = [...byPartition(fresh)].map(
      ([part, events]) => sql`(${appendedAt}, ${events.length}, ${encodeJournalRow(events)}, ${part})`,
    );
    await sql`insert into usage_journal (appended_at, events, payload, part) values ${sql.join(rows)}`.execute(
      tx,
    );
  }
  // Last, so that the audit head's row lock is held only until the commit.
  await new AuditQueries(tx).append(current.map((batch) => batch.audit));
  return batches.map((batch): IngestOutcome => {
    const own = duplicates.get(batch);
    return own
      ? { kind: 'committed', duplicates: own, forgotten: forgotten.get(batch) ?? [] }
      : { kind: 'stale-catalog' };
  });
}

/** Records the batches' event ids; events whose id was already known (or came earlier) are duplicates. */
async function claimEventIds(
  tx: Kysely<Database>,
  batches: readonly IngestBatch[],
  forgotten: ReadonlyMap<IngestBatch, readonly number[]>,
) {
  const kept = (batch: IngestBatch) => {
    const refused = new Set(forgotten.get(batch));
    return batch.events.filter((_event, index) => !refused.has(index));
  };
  const ids = [
    ...new Set(
      batches.flatMap((batch) => kept(batch).flatMap((event) => (event.id === undefined ? [] : [event.id]))),
    ),
  ].sort();
  const claimed = new Set<string>();
  if (ids.length) {
    const { rows } = await sql<{ id: string }>`
      insert into event_ids (id, received_at)
      select unnest(${textArray(ids)}::text[]), ${Date.now()}::bigint
      on conflict (id) do nothing
      returning id`.execute(tx);
    for (const row of rows) claimed.add(row.id);
  }
  const fresh: AcceptedEvent[] = [];
  const duplicates = new Map<IngestBatch, number[]>();
  for (const batch of batches) {
    const own: number[] = [];
    const refused = new Set(forgotten.get(batch));
    batch.events.forEach((event, index) => {
      if (refused.has(index)) return;
      if (event.id === undefined || claimed.delete(event.id)) fresh.push(event);
      else own.push(index);
    });
    duplicates.set(batch, own);
  }
  return { fresh, duplicates };
}
