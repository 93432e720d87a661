/**
 * `npx tsx bench/fold-layout-postgres.ts [--events N --subjects N --fold N]`: the write side of a
 * per-subject state layout on PostgreSQL, for issue 17's "measure both layouts". The workload's
 * events are folded `--fold` events per partition (4 partitions in parallel, as the real fold)
 * into one row per subject (`subject_state`: the subject's usages and field expiries as JSON),
 * read, merged and written back, then the same events through today's fold (`Store.fold`), and
 * both are timed with the WAL they wrote. A measurement, not a layout Lethe uses.
 */
import { sql } from 'kysely';
import { addDuration } from '../packages/server/src/lib/duration.js';
import {
  encodeJournalRow,
  type JournalEvent,
} from '../packages/server/src/retention/journal/journal-codec.js';
import { aggregateFold } from '../packages/server/src/store/postgres/fold-aggregate.js';
import { byPartition, FOLD_PARTITIONS } from '../packages/server/src/store/postgres/fold-partitions.js';
import { openPostgresStore } from '../packages/server/src/store/postgres/postgres-store.js';
import { textArray } from '../packages/server/src/store/postgres/array-literal.js';
import { positiveIntegerFlags } from './args.js';
import { RETENTIONS } from './catalog.js';
import { dropBenchDatabase, recreateBenchDatabase, walCounters, walSince } from './postgres-database.js';
import { generateWorkload } from './workload.js';

const options = positiveIntegerFlags(process.argv.slice(2), {
  events: 200_000,
  subjects: 20_000,
  fold: 50_000,
});
const workload = generateWorkload({ ...options, batch: 2_000, now: Date.now() });
const batches = workload.bodies.map((body) =>
  (
    JSON.parse(body.toString()) as {
      events: { subject: string; system: string; policy: string; fields: string[]; at: string }[];
    }
  ).events.map((event) => {
    const at = Date.parse(event.at);
    const retention = RETENTIONS.get(event.policy);
    if (!retention) throw new Error(`no retention for ${event.policy}`);
    return { ...event, id: undefined, at, keepsUntil: addDuration(at, retention) };
  }),
);

/** A subject's state: usages by "field policy" → [first, last, count], fields → [expiresAt, lastUseAt]. */
interface State {
  u: Record<string, [number, number, number]>;
  f: Record<string, [number, number]>;
}

const url = await recreateBenchDatabase();
const store = await openPostgresStore({ url });
const db = store.repository.db;
const report = (name: string, seconds: number, wal: { records: number; bytes: number }, rows: number) =>
  process.stdout.write(
    `${name}: ${Math.round(options.events / seconds)} events/s, ${(wal.records / options.events).toFixed(1)} WAL records and ` +
      `${(wal.bytes / options.events / 1024).toFixed(2)} KiB per event, ${(rows / options.events).toFixed(2)} rows written per event\n`,
  );
try {
  await sql`create table subject_state (subject text primary key, state text not null)`.execute(db);
  const parts = Array.from({ length: FOLD_PARTITIONS }, () => [] as JournalEvent[]);
  for (const batch of batches) for (const [part, events] of byPartition(batch)) parts[part]?.push(...events);

  let walBefore = await walCounters();
  let started = performance.now();
  const writtenByPart = await Promise.all(
    parts.map(async (events) => {
      let written = 0;
      for (let first = 0; first < events.length; first += options.fold) {
        const chunk = events.slice(first, first + options.fold);
        written += await db.transaction().execute(async (tx) => {
          const { usages, fields } = aggregateFold(chunk, () => ({ grantedAt: null, withdrawnAt: null }));
          const subjects = [...new Set(usages.subject)];
          const { rows } = await sql<{ subject: string; state: string }>`
            select subject, state from subject_state where subject = any(${textArray(subjects)}::text[])
            for update`.execute(tx);
          const states = new Map(rows.map((row) => [row.subject, JSON.parse(row.state) as State]));
          const of = (subject: string) => {
            let state = states.get(subject);
            if (!state) states.set(subject, (state = { u: {}, f: {} }));
            return state;
          };
          usages.subject.forEach((subject, i) => {
            const key = `${usages.field[i]} ${usages.policy[i]}`;
            const state = of(subject);
            const old = state.u[key];
            const [first, last, count] = [
              usages.firstUseAt[i] as number,
              usages.lastUseAt[i] as number,
              usages.count[i] as number,
            ];
            state.u[key] = old
              ? [Math.min(old[0], first), Math.max(old[1], last), old[2] + count]
              : [first, last, count];
          });
          fields.subject.forEach((subject, i) => {
            const state = of(subject);
            const old = state.f[fields.field[i] as string];
            const [expires, last] = [fields.expiresAt[i] as number, fields.lastUseAt[i] as number];
            state.f[fields.field[i] as string] = old
              ? [Math.max(old[0], expires), Math.max(old[1], last)]
              : [expires, last];
          });
          const names = [...states.keys()];
          await sql`
            insert into subject_state (subject, state)
            select * from unnest(${textArray(names)}::text[], ${textArray(names.map((name) => JSON.stringify(states.get(name))))}::text[])
            on conflict (subject) do update set state = excluded.state`.execute(tx);
          return names.length;
        });
      }
      return written;
    }),
  );
  const written = writtenByPart.reduce((sum, rows) => sum + rows, 0);
  report(
    'per-subject state rows',
    (performance.now() - started) / 1000,
    walSince(walBefore, await walCounters()),
    written,
  );

  for (const batch of batches) {
    for (const [part, events] of byPartition(batch)) {
      await sql`insert into usage_journal (appended_at, events, payload, part)
        values (${Date.now()}, ${events.length}, ${encodeJournalRow(events)}, ${part})`.execute(db);
    }
  }
  walBefore = await walCounters();
  started = performance.now();
  while ((await store.fold(options.fold)).events > 0);
  const { rows } = await sql<{ n: number }>`
    select (select count(*) from usages) + (select count(*) from field_expiries) + (select count(*) from subject_expiries) as n`.execute(
    db,
  );
  report(
    "today's tables (rows = final row count, a lower bound)",
    (performance.now() - started) / 1000,
    walSince(walBefore, await walCounters()),
    Number(rows[0]?.n),
  );
} finally {
  await store.close();
  await dropBenchDatabase();
}
