import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { readFileSync } from 'node:fs';

/**
 * The server's Prometheus metrics for `/metrics` (text exposition format 0.0.4), kept by
 * prom-client. Each `Metrics` has its own registry (a process may run several Lethe instances,
 * the tests do); the process and Node runtime metrics are the process's, in one shared registry.
 * Every name is listed in docs/observability.md (a test compares the two).
 */

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Where the server's own package.json says which version this is (`lethe_build_info`). */
const SERVER_PACKAGE = new URL('../../package.json', import.meta.url);

let processRegistry: Registry | undefined;

/**
 * prom-client's gauges named like counters (`promtool check metrics`: "non-counter metrics should
 * not have _total suffix"). Each is the sum over `type` of a labelled gauge that stays
 * (`nodejs_active_handles{type}`…), so dropping them loses nothing.
 */
const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * prom-client's default metrics (`process_*`, `nodejs_*`: CPU, memory, file descriptors, event
 * loop lag, GC, heap spaces) under their standard names, so that the usual Node dashboards work.
 * Made once per process: each collection starts an event-loop monitor and a GC observer that
 * live as long as the process.
 */
export function processMetricsRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    for (const name of MISNAMED_DEFAULT_METRICS) processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

export class Metrics {
  /** This instance's metrics (the process metrics are rendered beside them). */
  readonly registry = new Registry();

  readonly requests = this.histogram(
    'lethe_http_request_duration_seconds',
    'HTTP requests by route, method and status.',
    ['method', 'route', 'status'],
  );
  readonly eventsAccepted = this.counter('lethe_events_accepted_total', 'Usage events stored.');
  readonly eventsDuplicate = this.counter(
    'lethe_events_duplicate_total',
    'Usage events already stored (retries).',
  );
  readonly eventsRejected = this.counter('lethe_events_rejected_total', 'Usage events rejected, by code.', [
    'code',
  ]);
  readonly natsStreamAccepted = this.counter(
    'lethe_stream_nats_accepted_total',
    'Privacy-stream events from NATS JetStream stored.',
  );
  readonly natsStreamDuplicate = this.counter(
    'lethe_stream_nats_duplicate_total',
    'Privacy-stream events from NATS JetStream already stored (redeliveries).',
  );
  readonly natsStreamRejected = this.counter(
    'lethe_stream_nats_rejected_total',
    'Privacy-stream events from NATS JetStream refused and dead-lettered, by first reason code.',
    ['code'],
  );
  readonly natsStreamIngestFailures = this.counter(
    'lethe_stream_nats_ingest_failures_total',
    'Batches from NATS JetStream that could not be stored and were handed back for redelivery.',
  );
  readonly natsUsageAccepted = this.counter(
    'lethe_usage_nats_accepted_total',
    'Usage events from NATS JetStream stored.',
  );
  readonly natsUsageDuplicate = this.counter(
    'lethe_usage_nats_duplicate_total',
    'Usage events from NATS JetStream already stored (redeliveries, retries).',
  );
  readonly natsUsageRejected = this.counter(
    'lethe_usage_nats_rejected_total',
    'Usage events from NATS JetStream refused and dead-lettered, by code.',
    ['code'],
  );
  readonly natsUsageIngestFailures = this.counter(
    'lethe_usage_nats_ingest_failures_total',
    'Usage batches from NATS JetStream that could not be stored and were handed back for redelivery.',
  );
  readonly otlpLogRecords = this.counter(
    'lethe_otlp_log_records_total',
    'OTLP log records received, by outcome (accepted, duplicate, rejected, ignored: no privacy.* attributes).',
    ['outcome'],
  );
  readonly jobRuns = this.counter(
    'lethe_job_runs_total',
    'Background job runs, by job and outcome (ok, error, skipped while the previous run was going).',
    ['job', 'outcome'],
  );
  readonly jobDuration = this.histogram('lethe_job_duration_seconds', 'Background job runs, by job.', [
    'job',
  ]);
  readonly webhookDeliveries = this.counter(
    'lethe_webhook_deliveries_total',
    'Webhook delivery attempts, by outcome (delivered, retry: will be tried again, failed: gave up).',
    ['outcome'],
  );
  readonly foldedEvents = this.counter(
    'lethe_usage_journal_folded_events_total',
    'Usage events folded from the journal into the expiries by this node.',
  );
  readonly journalBacklogEvents = this.gauge(
    'lethe_usage_journal_backlog_events',
    'Accepted usage events not folded into the expiries yet.',
  );
  readonly journalLagSeconds = this.gauge(
    'lethe_usage_journal_lag_seconds',
    'Age of the oldest usage-journal entry not folded yet, as this node last saw it (0 when caught up).',
  );

  constructor() {
    const buildInfo = this.gauge(
      'lethe_build_info',
      'Always 1; the labels say which Lethe runs on which Node.',
      ['version', 'node'],
    );
    buildInfo.set({ version: serverVersion(), node: process.versions.node }, 1);
  }

  /** The exposition's media type (0.0.4 text). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The process metrics and this instance's, as Prometheus text; scrape-time gauges are computed now. */
  async render(): Promise<string> {
    const [own, processWide] = await Promise.all([
      this.registry.metrics(),
      processMetricsRegistry().metrics(),
    ]);
    return `${processWide}\n${own}`;
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (this: Gauge<L>) => void | Promise<void>,
  ) {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect ? { collect } : {}),
    });
  }

  histogram<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) {
    return new Histogram<L>({
      name,
      help,
      labelNames,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [this.registry],
    });
  }
}

let version: string | undefined;

function serverVersion(): string {
  version ??= (JSON.parse(readFileSync(SERVER_PACKAGE, 'utf8')) as { version: string }).version;
  return version;
}
