import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSENT_PURPOSES, consentComparisonPolicies } from './consent-catalog.js';
import { grantConsentToAll, type GrantsRecorded } from './consent-grants.js';
import { measureIngest, type IngestMeasurement } from './ingest-measure.js';
import { applyCatalog, startLethe, type LetheServer } from './lethe-process.js';
import { dropBenchDatabase, recreateBenchDatabase, withClient } from './postgres-database.js';
import { formatInteger } from './stats.js';
import {
  checkAnswers,
  checkCounts,
  checkSampleSubjects,
  openSqliteCounts,
  STORED_COUNTS_SQL,
  storedCounts,
  VIOLATION_COUNTS_SQL,
} from './verify-ingest.js';
import type { Workload } from './workload.js';

export type Backend = 'sqlite' | 'postgres';

/**
 * (a) no policy is consent-based: the check is skipped, the baseline;
 * (b) every policy is consent-based and every subject consented before its first event;
 * (c) every policy is consent-based and nobody consented: every event is a violation.
 */
export type ConsentCase = 'baseline' | 'consented' | 'unconsented';

export const CONSENT_CASES: readonly ConsentCase[] = ['baseline', 'consented', 'unconsented'];

export interface ConsentRun extends IngestMeasurement {
  readonly backend: Backend;
  readonly consentCase: ConsentCase;
  /** The consent import before the load (case b), not part of the timed load. */
  readonly grants?: GrantsRecorded;
  readonly violationRows: number;
  readonly verified: string;
}

export interface ConsentComparisonOptions {
  readonly events: number;
  readonly subjects: number;
  readonly concurrency: number;
  /** Epoch ms the workload was generated for: grants are dated three years before it. */
  readonly now: number;
  readonly log: (message: string) => void;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const YEAR_MS = 365.25 * 86_400_000;

/** The three cases on one backend, in order, each on a fresh store; the same bodies every time. */
export async function consentComparison(
  backend: Backend,
  workload: Workload,
  options: ConsentComparisonOptions,
): Promise<ConsentRun[]> {
  const runs: ConsentRun[] = [];
  for (const consentCase of CONSENT_CASES) {
    const run = await consentRun(backend, consentCase, workload, options);
    options.log(
      `${backend} ${consentCase}: ${formatInteger(run.eventsPerSecond)} events/s, p50 ${run.p50Ms.toFixed(1)} ms, ` +
        `p99 ${run.p99Ms.toFixed(1)} ms, ${run.seconds.toFixed(1)} s`,
    );
    runs.push(run);
  }
  return runs;
}

async function consentRun(
  backend: Backend,
  consentCase: ConsentCase,
  workload: Workload,
  options: ConsentComparisonOptions,
): Promise<ConsentRun> {
  const databaseUrl = backend === 'postgres' ? await recreateBenchDatabase() : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), `lethe-bench-consent-${backend}-`));
  try {
    const lethe = await startLethe({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
    let measured: IngestMeasurement;
    let grants: GrantsRecorded | undefined;
    let sampled: number;
    try {
      await applyCatalog(lethe, consentComparisonPolicies(consentCase !== 'baseline'));
      if (consentCase === 'consented') {
        grants = await grantConsentToAll(
          lethe,
          options.subjects,
          CONSENT_PURPOSES,
          new Date(options.now - 3 * YEAR_MS),
        );
      }
      measured = await load(lethe, workload, options, backend === 'postgres');
      checkAnswers(measured.answers, workload.expected);
      // Without consent every use keeps its field only until that use ("delete now").
      sampled = await checkSampleSubjects(
        lethe.server.url,
        lethe.token,
        workload.expected,
        consentCase === 'unconsented' ? (field) => field.lastUseAt : undefined,
      );
    } finally {
      await lethe.server.stop();
    }
    const counts = storedCounts(await queryStore(dataDir, databaseUrl, STORED_COUNTS_SQL));
    checkCounts(counts, workload.expected);
    const violations = await queryStore(dataDir, databaseUrl, VIOLATION_COUNTS_SQL);
    const violationRows = Number(violations['violation_rows']);
    const violationUses = Number(violations['violation_uses']);
    const expectedUses = consentCase === 'unconsented' ? options.events : 0;
    if (violationUses !== expectedUses) {
      throw new Error(
        `${backend} ${consentCase}: ${violationUses} violating uses recorded, expected ${expectedUses}`,
      );
    }
    return {
      ...measured,
      backend,
      consentCase,
      ...(grants ? { grants } : {}),
      violationRows,
      verified:
        `accepted = sent, ${sampled} sample subjects match field by field, ${formatInteger(counts.events)} event ids and ` +
        `${formatInteger(counts.fieldUses)} uses stored, ${formatInteger(violationUses)} violating uses in ` +
        `${formatInteger(violationRows)} violation rows`,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (databaseUrl) await dropBenchDatabase();
  }
}

function load(
  lethe: LetheServer,
  workload: Workload,
  options: ConsentComparisonOptions,
  withPostgres: boolean,
) {
  return measureIngest({
    server: lethe.server,
    bodies: workload.bodies,
    events: options.events,
    concurrency: options.concurrency,
    headers: { ...JSON_HEADERS, authorization: `Bearer ${lethe.token}` },
    withPostgres,
  });
}

/** One row of a query on the stopped server's store: the SQLite file, or the PostgreSQL database. */
async function queryStore(
  dataDir: string,
  databaseUrl: string | undefined,
  sql: string,
): Promise<Record<string, unknown>> {
  if (databaseUrl) {
    return withClient(
      databaseUrl,
      async (client) => (await client.query<Record<string, unknown>>(sql)).rows[0] ?? {},
    );
  }
  const connection = openSqliteCounts(dataDir);
  try {
    return connection.prepare(sql).get() as Record<string, unknown>;
  } finally {
    connection.close();
  }
}
