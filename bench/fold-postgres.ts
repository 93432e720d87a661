/**
 * `npx tsx bench/fold-postgres.ts [--events N --subjects N --fold N --row N]`: the PostgreSQL fold
 * alone. Fills the usage journal of a fresh database with the ingest workload's events (rows of
 * `--row` events, as group commits write them), then folds it with `Store.fold(--fold)` until it
 * is empty and prints the rate. Working tool for issue 17's fold; not part of docs/benchmarks.md.
 */
import { sql } from 'kysely';
import { addDuration } from '../packages/server/src/lib/duration.js';
import {
  encodeJournalRow,
  type JournalEvent,
} from '../packages/server/src/retention/journal/journal-codec.js';
import { byPartition } from '../packages/server/src/store/postgres/fold-partitions.js';
import { openPostgresStore } from '../packages/server/src/store/postgres/postgres-store.js';
import { positiveIntegerFlags } from './args.js';
import { RETENTIONS } from './catalog.js';
import { dropBenchDatabase, recreateBenchDatabase } from './postgres-database.js';
import { generateWorkload } from './workload.js';

const options = positiveIntegerFlags(process.argv.slice(2), {
  events: 200_000,
  subjects: 20_000,
  fold: 20_000,
  row: 2_000,
  fillfactor: 100,
});

const workload = generateWorkload({
  events: options.events,
  subjects: options.subjects,
  batch: options.row,
  now: Date.now(),
});
const url = await recreateBenchDatabase();
const store = await openPostgresStore({ url });
try {
  for (const table of ['usages', 'field_expiries', 'subject_expiries']) {
    await sql`alter table ${sql.table(table)} set (fillfactor = ${sql.lit(options.fillfactor)})`.execute(
      store.repository.db,
    );
  }
  for (const body of workload.bodies) {
    const { events } = JSON.parse(body.toString()) as {
      events: { subject: string; system: string; policy: string; fields: string[]; at: string }[];
    };
    const journal = events.map((event): JournalEvent => {
      const at = Date.parse(event.at);
      const retention = RETENTIONS.get(event.policy);
      if (!retention) throw new Error(`no retention for ${event.policy}`);
      return {
        subject: event.subject,
        system: event.system,
        policy: event.policy,
        fields: event.fields,
        at,
        keepsUntil: addDuration(at, retention),
      };
    });
    for (const [part, events] of byPartition(journal.map((e) => ({ ...e, id: undefined })))) {
      await sql`insert into usage_journal (appended_at, events, payload, part)
        values (${Date.now()}, ${events.length}, ${encodeJournalRow(events)}, ${part})`.execute(
        store.repository.db,
      );
    }
  }
  const started = performance.now();
  let folds = 0;
  for (;;) {
    const t = performance.now();
    const { events } = await store.fold(options.fold);
    if (events === 0) break;
    folds += 1;
    process.stdout.write(`fold ${folds}: ${events} events in ${(performance.now() - t).toFixed(0)} ms\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `folded ${options.events} events in ${seconds.toFixed(2)} s: ${Math.round(options.events / seconds)} events/s\n`,
  );
} finally {
  await store.close();
  await dropBenchDatabase();
}
