/**
 * `tsx bench/requests-profile.ts [--rows N --matches N --runs N]`: loads the bench:requests
 * database (with the `lower(email)` index), then times the connector's delete_pii and the floor
 * `--runs` times each, restoring in between, and prints every statement the connector issues with
 * its time. Run it under `node --cpu-prof --import tsx` for the Node side's profile.
 */
import pg from 'pg';
import { positiveIntegerFlags } from './args.js';
import { RequestsDatabase, timeConnector, timeFloor } from './requests-postgres.js';

const options = positiveIntegerFlags(process.argv.slice(2), { rows: 1_000_000, matches: 10_000, runs: 3 });

/** Statements timed while `tracing`: pg's Client.query wrapped, so the connector's own are seen. */
let tracing = false;
const traced: { sql: string; ms: number; rows: number }[] = [];
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with the client as `this` below
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const result = query.apply(this, args);
  if (!tracing || !(result instanceof Promise)) return result;
  const started = performance.now();
  const first = args[0] as string | { text: string };
  const text = typeof first === 'string' ? first : first.text;
  return result.then((value: { rowCount?: number | null }) => {
    traced.push({
      sql: text.replace(/\s+/g, ' ').slice(0, 160),
      ms: performance.now() - started,
      rows: value.rowCount ?? 0,
    });
    return value;
  });
} as typeof pg.Client.prototype.query;

const database = new RequestsDatabase();
await database.create();
try {
  await database.load(options.rows, options.matches);
  await database.addLowerEmailIndex();
  await database.settle();
  for (let run = 0; run < options.runs; run++) {
    tracing = run === options.runs - 1;
    const connector = await timeConnector(database.url, 'delete_pii');
    tracing = false;
    await database.verifyClearedAndRestore(options.matches, 'connector');
    const floor = await timeFloor(database.url);
    await database.verifyClearedAndRestore(options.matches, 'floor');
    process.stdout.write(
      `run ${run + 1}: connector ${connector.ms.toFixed(0)} ms, floor ${floor.ms.toFixed(0)} ms, ` +
        `ratio ${(connector.ms / floor.ms).toFixed(2)}\n`,
    );
  }
  const bySql = new Map<string, { count: number; ms: number; rows: number }>();
  for (const entry of traced) {
    const key = entry.sql.replace(/\$\d+/g, '$n');
    const sum = bySql.get(key) ?? { count: 0, ms: 0, rows: 0 };
    bySql.set(key, { count: sum.count + 1, ms: sum.ms + entry.ms, rows: sum.rows + entry.rows });
  }
  for (const [text, sum] of [...bySql].sort((a, b) => b[1].ms - a[1].ms)) {
    process.stdout.write(
      `${sum.ms.toFixed(1).padStart(8)} ms ${String(sum.count).padStart(4)}× ${String(sum.rows).padStart(6)} rows  ${text}\n`,
    );
  }
} finally {
  await database.drop();
}
