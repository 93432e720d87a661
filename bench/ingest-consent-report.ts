import { CONSENT_PURPOSES, consentComparisonPolicies } from './consent-catalog.js';
import { formatKiB } from './ingest-report.js';
import type { ConsentCase, ConsentRun } from './ingest-consent.js';
import type { Machine } from './machine.js';
import { table } from './report.js';
import { formatInteger, formatMs, formatRatio } from './stats.js';

export interface ConsentReportParameters {
  readonly events: number;
  readonly subjects: number;
  readonly batch: number;
  readonly concurrency: number;
  readonly fieldUses: number;
  /** 1-min load average when the run started and when it ended. */
  readonly loadAtStart: number;
  readonly loadAtEnd: number;
}

const CASE_NAMES: Record<ConsentCase, string> = {
  baseline: '(a) no consent-based policy',
  consented: '(b) consent-based, all consented',
  unconsented: '(c) consent-based, none consented',
};

const BACKEND_NAMES = { sqlite: 'SQLite', postgres: 'PostgreSQL' } as const;

export function consentReport(
  machine: Machine,
  parameters: ConsentReportParameters,
  runs: readonly ConsentRun[],
  build: string,
): string {
  const events = parameters.events;
  const baselineOf = (run: ConsentRun) =>
    runs.find((other) => other.backend === run.backend && other.consentCase === 'baseline');
  const vsBaseline = (run: ConsentRun) => {
    const baseline = baselineOf(run);
    return baseline ? formatRatio(run.eventsPerSecond / baseline.eventsPerSecond) : '–';
  };
  const rows = [
    [
      'store',
      'case',
      'events/s',
      'vs (a)',
      'p50 batch',
      'p99 batch',
      'total',
      'CPU per 1k events',
      'disk written per event',
      'violation rows',
    ],
    ...runs.map((run) => [
      BACKEND_NAMES[run.backend],
      CASE_NAMES[run.consentCase],
      formatInteger(run.eventsPerSecond),
      vsBaseline(run),
      `${formatMs(run.p50Ms)} ms`,
      `${formatMs(run.p99Ms)} ms`,
      `${run.seconds.toFixed(1)} s`,
      `${formatMs((run.server.cpuSeconds * 1e6) / events)} ms` +
        (run.postgres ? ` + PostgreSQL ${formatMs((run.postgres.cpuSeconds * 1e6) / events)} ms` : ''),
      formatKiB(run.server.writtenBytes / events) +
        (run.postgres ? ` + PostgreSQL ${formatKiB(run.postgres.writtenBytes / events)}` : ''),
      formatInteger(run.violationRows),
    ]),
  ];
  const policies = Object.entries(consentComparisonPolicies(false))
    .map(([name, policy]) => `${name} ${policy.purpose} ${policy.retention} ${policy.legalBasis}`)
    .join(', ');
  const grants = runs.flatMap((run) =>
    run.grants
      ? [
          `${BACKEND_NAMES[run.backend]} ${formatInteger(run.grants.recorded)} grants in ${run.grants.requests} request${run.grants.requests === 1 ? '' : 's'}, ` +
            `${run.grants.seconds.toFixed(1)} s`,
        ]
      : [],
  );
  const ratios = (['sqlite', 'postgres'] as const).flatMap((backend) => {
    const of = (consentCase: ConsentCase) =>
      runs.find((run) => run.backend === backend && run.consentCase === consentCase);
    const baseline = of('baseline');
    const consented = of('consented');
    const unconsented = of('unconsented');
    if (!baseline || !consented || !unconsented) return [];
    return [
      `- ${BACKEND_NAMES[backend]}: (b)/(a) = **${(consented.eventsPerSecond / baseline.eventsPerSecond).toFixed(2)}**, ` +
        `(c)/(a) = **${(unconsented.eventsPerSecond / baseline.eventsPerSecond).toFixed(2)}** ` +
        `(${formatInteger(baseline.eventsPerSecond)} / ${formatInteger(consented.eventsPerSecond)} / ` +
        `${formatInteger(unconsented.eventsPerSecond)} events/s).`,
    ];
  });
  const wal = runs.flatMap((run) =>
    run.wal
      ? [
          `${CASE_NAMES[run.consentCase]}: ${(run.wal.records / events).toFixed(1)} records, ` +
            `${(run.wal.fullPageImages / events).toFixed(2)} full-page images, ${formatKiB(run.wal.bytes / events)}`,
        ]
      : [],
  );
  return `### Consent check on the hot path: \`npm run bench:ingest -- --consent\`

${machine.lines.map((line) => `- ${line}`).join('\n')}
- Load average (1 min) at the start / end of the run: ${parameters.loadAtStart.toFixed(2)} / ${parameters.loadAtEnd.toFixed(2)} (anything above 0 is other work sharing the CPUs)
- Lethe build: ${build}

Parameters: ${formatInteger(events)} events (unique ids) about ${formatInteger(parameters.subjects)} subjects,
${formatInteger(parameters.batch)} events per \`POST /v1/events\`, ${parameters.concurrency} requests in flight,
${(parameters.fieldUses / events).toFixed(2)} fields per event: the generator of the table above at a smaller size, the same
bodies in all six runs, each run on a fresh data directory / database. The five policies keep their retentions
and get taxonomy purposes (${policies}).

- **(a)** those legal bases: no event is looked up (the baseline).
- **(b)** all five policies with legal basis \`consent\`, and every subject granted all ${CONSENT_PURPOSES.length} purposes beforehand
  through \`POST /v1/consent/import\`, dated three years before the events, so every use is consented
  (${grants.join('; ')}; not timed).
- **(c)** all five with legal basis \`consent\` and nothing recorded: every event is a violation.

Every event is under a consent-based policy in (b) and (c): this is the check's cost at its worst, not a
typical mix. Runs go (a), (b), (c) on SQLite, then on PostgreSQL.

${table(rows)}

${ratios.join('\n')}

PostgreSQL's WAL per event (pg_stat_wal): ${wal.join('; ')}.

Verification: ${runs.map((run) => `${BACKEND_NAMES[run.backend]} ${CASE_NAMES[run.consentCase]}: ${run.verified}`).join('; ')}.
`;
}
