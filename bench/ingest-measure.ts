import { postAll, type LoadResult } from './http-load.js';
import {
  postgresUsageByPid,
  postgresUsageSince,
  walCounters,
  walSince,
  type WalCounters,
} from './postgres-database.js';
import type { ProcessUsage, ServerProcess } from './server-process.js';
import { percentile } from './stats.js';

export interface IngestMeasurement {
  readonly eventsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly seconds: number;
  /** The server's Node process during the load. */
  readonly server: ProcessUsage & { readonly peakRssKiB: number };
  /** PostgreSQL's own processes during the load, when the server uses it. */
  readonly postgres?: ProcessUsage;
  /** WAL written by the whole PostgreSQL server during the load (the benchmark is its only client). */
  readonly wal?: WalCounters;
  /** The parsed 200 answers, for verification. */
  readonly answers: readonly unknown[];
}

export interface LoadSpec {
  readonly server: ServerProcess;
  readonly bodies: readonly Buffer[];
  readonly events: number;
  readonly concurrency: number;
  readonly headers: Record<string, string>;
  readonly withPostgres?: boolean;
}

/** Runs the load; process counters are read right around it, so setup and verification do not count. */
export async function measureIngest(spec: LoadSpec): Promise<IngestMeasurement> {
  const before = spec.server.stats();
  const postgresBefore = spec.withPostgres ? postgresUsageByPid() : undefined;
  const walBefore = spec.withPostgres ? await walCounters() : undefined;
  const load: LoadResult = await postAll({
    url: `${spec.server.url}/v1/events`,
    bodies: spec.bodies,
    concurrency: spec.concurrency,
    headers: spec.headers,
  });
  const after = spec.server.stats();
  return {
    eventsPerSecond: spec.events / load.seconds,
    p50Ms: percentile(load.latenciesMs, 50),
    p99Ms: percentile(load.latenciesMs, 99),
    seconds: load.seconds,
    server: {
      cpuSeconds: after.cpuSeconds - before.cpuSeconds,
      writtenBytes: after.writtenBytes - before.writtenBytes,
      peakRssKiB: after.peakRssKiB,
    },
    ...(postgresBefore ? { postgres: postgresUsageSince(postgresBefore) } : {}),
    ...(walBefore ? { wal: walSince(walBefore, await walCounters()) } : {}),
    answers: load.answers,
  };
}
