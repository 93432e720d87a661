import { NOTE_STRIDE, type LoadOutcome } from './requests-postgres.js';
import { table } from './report.js';
import { formatInteger, formatMs, formatRatio, percentile } from './stats.js';

/** Timed samples of one way of doing the work, in milliseconds. */
export interface Series {
  readonly label: string;
  readonly samples: readonly number[];
}

export interface PostgresPhase {
  /** Which indexes the table has in this phase. */
  readonly indexes: string;
  /** PostgreSQL's plan for the connector's page read, from EXPLAIN. */
  readonly readPlan: string;
  readonly connector: Series;
  readonly lethe: Series;
  /** The connector task's attempt inside Lethe (connector run plus storing the records). */
  readonly letheAttempt: Series;
  readonly naive: Series;
  readonly floor: Series;
  readonly dsar: Series;
  /** Largest RSS growth of this process over each timed connector delete_pii run, bytes. */
  readonly rssGrowth: readonly number[];
  /** WAL bytes per timed run, by way: the server's WAL insert position before and after. */
  readonly walBytes: Readonly<Record<string, readonly number[]>>;
}

export interface FanoutKind {
  readonly type: 'delete' | 'dsar';
  readonly lethe: Series;
  readonly naive: Series;
  readonly meanAttemptMs: readonly number[];
}

export interface RequestsReportInput {
  readonly machine: readonly string[];
  readonly options: Readonly<Record<string, number>>;
  readonly load: LoadOutcome;
  readonly lowerIndexSeconds: number;
  readonly phases: readonly PostgresPhase[];
  readonly fanout: readonly FanoutKind[];
  readonly concurrency: number;
  readonly pollMs: number;
  readonly tickMs: number;
}

const median = (samples: readonly number[]) => percentile(samples, 50);
const p95 = (samples: readonly number[]) => percentile(samples, 95);
const ms = (value: number) => `${formatMs(value)} ms`;

export function requestsReport(input: RequestsReportInput): string {
  const { options } = input;
  const rows = options['rows'] ?? 0;
  const matches = options['matches'] ?? 0;
  const clients = options['clients'] ?? 0;
  const latency = options['latency-ms'] ?? 0;

  return `
## Privacy rights requests: \`npm run bench:requests\`

${input.machine.map((line) => `- ${line}`).join('\n')}

Parameters: \`--rows ${rows} --matches ${matches} --runs ${options['runs']} --clients ${clients} --latency-ms ${latency} --fanout-runs ${options['fanout-runs']}\`.

### A delete_pii of ${formatInteger(matches)} rows among ${formatInteger(rows)} in PostgreSQL

Table \`events(id bigint primary key, email, phone, name, address, payload)\` and its children
\`event_notes(id bigint primary key, event_id bigint references events, note)\`, one note for every ${NOTE_STRIDE}th event
(${formatInteger(rows / NOTE_STRIDE)} notes, index on \`event_id\`) (together ${formatInteger(input.load.tableMiB)} MiB,
indexes ${formatInteger(input.load.indexMiB)} MiB) in a database of the benchmark's own on 127.0.0.1; every
${formatInteger(rows / matches)}th event carries the target email, so each match sits on a different page, and each has one
note. Loading (\`insert … select generate_series\`, keys, index on \`email\`, VACUUM ANALYZE) took ${input.load.seconds.toFixed(1)} s,
not part of any figure. The connector config tags \`email\` as \`email\` and \`name\`, \`address\`, \`phone\` as
\`compliance/pii\`, and lists \`event_notes\` (\`note\`: \`compliance/pii\`) with the link \`event_id → events.id\`,
so the connector walks down from each matched event to its note: ${formatInteger(2 * matches)} rows reached and cleared.
Each timed run starts from the same state: after every delete the benchmark checks that
exactly the ${formatInteger(matches)} target events and their ${formatInteger(matches)} notes have NULL PII (and no other row),
writes the values back, then runs VACUUM and CHECKPOINT (none of which is timed). Each round runs the three deletes in a rotating order after one untimed warm-up
round; every timed figure includes opening the connection.

- **connector**: \`runSqlConnector\` with \`{type: 'delete_pii', strategy: 'exact', identifiers: {email}}\`, as Lethe's runner
  calls it (own connection, one repeatable-read transaction, the catalog read, the linking values collected
  (\`select distinct\`), each table's matches read through one cursor in pages of 500, one UPDATE per table); the
  records go to a sink that counts them.
- **Lethe, connector task**: the same run inside Lethe (in this process, SQLite data directory), where each batch of
  500 records is sealed and stored in its own transaction: the task's attempt as Lethe recorded it.
- **Lethe, end to end**: from sending \`POST /v1/requests\` (delete_pii, the target email) over HTTP to the
  \`completedAt\` Lethe records (same clock; the benchmark polls every ${input.pollMs} ms only to notice the end).
  Runner tick ${input.tickMs} ms; a new request wakes the runner at once.
- **naive**: \`select id … where email = $1\`, then, row by row in one transaction, \`UPDATE events … WHERE id = $1\`
  and \`UPDATE event_notes SET note = NULL WHERE event_id = $1\`.
- **floor**: one statement, \`WITH cleared AS (UPDATE events SET name = NULL, address = NULL, phone = NULL WHERE email = $1
  RETURNING id) UPDATE event_notes SET note = NULL WHERE event_id IN (SELECT id FROM cleared)\`.
- **dsar**: \`runSqlConnector\` with \`type: 'dsar'\` (a read-only transaction; every column of every row is returned).
- **WAL per run**: how far the server's WAL insert position moved during the run (every database on the server counts).

The connector matches \`lower(email) = lower($1)\` (emails match case-insensitively), which an index on \`email\`
cannot serve; the second table adds an index on \`lower(email)\` (built in ${input.lowerIndexSeconds.toFixed(1)} s).

${input.phases.map((phase) => phaseSection(phase, matches)).join('\n\n')}

${fanoutSection(input)}
`;
}

/** One PostgreSQL phase: its table and what the connector's figures mean. */
function phaseSection(phase: PostgresPhase, matches: number): string {
  const connector = median(phase.connector.samples);
  const naive = median(phase.naive.samples);
  const floor = median(phase.floor.samples);
  const rss = phase.rssGrowth;
  return [
    `### ${phase.indexes}`,
    '',
    phaseTable(phase, matches),
    '',
    `The connector ${versus(naive / connector)} the naive script and takes ` +
      `${formatRatio(connector / floor)} the time of the single statement. RSS growth of the benchmark process ` +
      `during a connector delete_pii run: median ${formatMiB(median(rss))}, largest ${formatMiB(Math.max(...rss))} ` +
      `(${formatInteger(2 * matches)} records handed over in batches of 500). PostgreSQL's plan for the connector's ` +
      `read of the matched events: \`${phase.readPlan.replace(/\s*\(cost=[^)]*\)/g, '')}\`.`,
  ].join('\n');
}

function phaseTable(phase: PostgresPhase, matches: number): string {
  const naive = median(phase.naive.samples);
  const floor = median(phase.floor.samples);
  const row = (series: Series, compare: boolean, wal: string | undefined) => {
    const m = median(series.samples);
    const walSamples = wal === undefined ? undefined : phase.walBytes[wal];
    return [
      series.label,
      String(series.samples.length),
      ms(m),
      ms(p95(series.samples)),
      formatInteger(matches / (m / 1000)),
      compare ? formatRatio(m / naive) : '–',
      compare ? formatRatio(m / floor) : '–',
      walSamples === undefined ? '–' : formatMiB(median(walSamples)),
    ];
  };
  return table([
    [
      'run',
      'runs',
      'median',
      'p95',
      'rows/s (median)',
      'time ÷ naive',
      'time ÷ floor',
      'WAL per run (median)',
    ],
    row(phase.connector, true, 'connector'),
    row(phase.letheAttempt, true, undefined),
    row(phase.lethe, true, 'lethe'),
    row(phase.naive, true, 'naive'),
    row(phase.floor, true, 'floor'),
    row(phase.dsar, false, 'dsar'),
  ]);
}

/** The fan-out to HTTP rights clients: Lethe's concurrent tasks against a naive loop. */
function fanoutSection(input: RequestsReportInput): string {
  const clients = input.options['clients'] ?? 0;
  const latency = input.options['latency-ms'] ?? 0;
  const waves = Math.ceil(clients / input.concurrency);
  const ideal = waves * latency;
  const sequential = clients * latency;
  const fanoutRows = input.fanout.flatMap((kind) => {
    const lethe = median(kind.lethe.samples);
    const naive = median(kind.naive.samples);
    const overhead = lethe - ideal;
    return [
      [
        kind.lethe.label,
        String(kind.lethe.samples.length),
        ms(lethe),
        ms(p95(kind.lethe.samples)),
        ms(ideal),
        `${ms(overhead)} (${ms(overhead / waves)} per wave, ${ms(overhead / clients)} per task)`,
        ms(median(kind.meanAttemptMs)),
        formatRatio(naive / lethe),
      ],
      [
        kind.naive.label,
        String(kind.naive.samples.length),
        ms(naive),
        ms(p95(kind.naive.samples)),
        ms(sequential),
        `${ms(naive - sequential)} (${ms((naive - sequential) / clients)} per call)`,
        '–',
        '1×',
      ],
    ];
  });

  return `### Fan-out to ${clients} HTTP rights clients

Lethe in this process on a fresh SQLite data directory, listening on 127.0.0.1, with \`DEFAULT_REQUEST_SETTINGS\`
(concurrency ${input.concurrency}) and a runner tick of ${input.tickMs} ms; ${clients} systems holding
\`user.contact.email\`, each with one HTTP rights client: the test suite's fixture (\`startHttpRightsClient\`), a real
node:http server on loopback that verifies each call token against Lethe's JWKS, waits ${latency} ms, then answers by the
contract. The ${clients} clients run together in a second Node process, so that their token checks do not share Lethe's
event loop. A distinct email per run; every run is checked (${clients} tasks, each done in one attempt, each having found
or deleted the one record its client holds). The time runs from sending \`POST /v1/requests\` to the request's
\`completedAt\` (same clock; polled every ${input.pollMs} ms only to notice the end: polling a 50-task request every
few ms loaded the event loop Lethe shares with the benchmark and slowed it by about a quarter). One untimed warm-up request first (the clients fetch the JWKS).

- **ideal**: ⌈${clients} / ${input.concurrency}⌉ × ${latency} ms = ${ideal} ms for Lethe's concurrency; ${clients} × ${latency} ms = ${sequential} ms for the naive loop.
- **naive loop**: the ${clients} clients called one after another with plain \`fetch\`, the same JSON body, no token, no
  retries and nothing recorded (a second set of the same fixtures in the same process, without token checks).
- **one call in Lethe**: the mean attempt time Lethe records (minting the call token, HTTP, the client's token check and latency, storing the answer).

${table([
  [
    'run',
    'runs',
    'median',
    'p95',
    'ideal',
    'beyond ideal (median)',
    'one call in Lethe (median of means)',
    'naive ÷ Lethe',
  ],
  ...fanoutRows,
])}`;
}

/** `speedUp` = the other's time ÷ this one's. */
function versus(speedUp: number): string {
  if (speedUp >= 1.05) return `is ${formatRatio(speedUp)} faster than`;
  if (speedUp <= 1 / 1.05) return `is ${formatRatio(1 / speedUp)} slower than`;
  return 'is as fast as (within 5%)';
}

function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
