/**
 * A small Prometheus registry for `/metrics` (text exposition format 0.0.4): counters with
 * labels and latency histograms. Enough for dashboards and alerts on ingest and errors,
 * without a dependency.
 */
type Labels = Record<string, string>;

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class Counter {
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.values].map(([labels, value]) => `${this.name}${labels} ${value}`),
    ];
  }
}

class Gauge {
  private value = 0;

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  set(value: number): void {
    this.value = value;
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.value}`];
  }
}

class Histogram {
  private readonly series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  observe(labels: Labels, seconds: number): void {
    const key = labelText(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, counts: LATENCY_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    LATENCY_BUCKETS_SECONDS.forEach((bound, index) => {
      if (seconds <= bound) entry.counts[index]! += 1;
    });
    entry.sum += seconds;
    entry.count += 1;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      LATENCY_BUCKETS_SECONDS.forEach((bound, index) => {
        lines.push(`${this.name}_bucket${labelText({ ...labels, le: String(bound) })} ${counts[index]}`);
      });
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${sum}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines;
  }
}

export class Metrics {
  readonly requests = new Histogram(
    'lethe_http_request_duration_seconds',
    'HTTP requests by route, method and status.',
  );
  readonly eventsAccepted = new Counter('lethe_events_accepted_total', 'Usage events stored.');
  readonly eventsDuplicate = new Counter(
    'lethe_events_duplicate_total',
    'Usage events already stored (retries).',
  );
  readonly eventsRejected = new Counter('lethe_events_rejected_total', 'Usage events rejected, by code.');
  readonly natsStreamAccepted = new Counter(
    'lethe_stream_nats_accepted_total',
    'Privacy-stream events from NATS JetStream stored.',
  );
  readonly natsStreamDuplicate = new Counter(
    'lethe_stream_nats_duplicate_total',
    'Privacy-stream events from NATS JetStream already stored (redeliveries).',
  );
  readonly natsStreamRejected = new Counter(
    'lethe_stream_nats_rejected_total',
    'Privacy-stream events from NATS JetStream refused and dead-lettered, by first reason code.',
  );
  readonly natsStreamIngestFailures = new Counter(
    'lethe_stream_nats_ingest_failures_total',
    'Batches from NATS JetStream that could not be stored and were handed back for redelivery.',
  );
  readonly natsUsageAccepted = new Counter(
    'lethe_usage_nats_accepted_total',
    'Usage events from NATS JetStream stored.',
  );
  readonly natsUsageDuplicate = new Counter(
    'lethe_usage_nats_duplicate_total',
    'Usage events from NATS JetStream already stored (redeliveries, retries).',
  );
  readonly natsUsageRejected = new Counter(
    'lethe_usage_nats_rejected_total',
    'Usage events from NATS JetStream refused and dead-lettered, by code.',
  );
  readonly natsUsageIngestFailures = new Counter(
    'lethe_usage_nats_ingest_failures_total',
    'Usage batches from NATS JetStream that could not be stored and were handed back for redelivery.',
  );
  readonly otlpLogRecords = new Counter(
    'lethe_otlp_log_records_total',
    'OTLP log records received, by outcome (accepted, duplicate, rejected, ignored: no privacy.* attributes).',
  );
  readonly jobRuns = new Counter(
    'lethe_job_runs_total',
    'Background job runs, by job and outcome (ok, error, skipped while the previous run was going).',
  );
  readonly jobDuration = new Histogram('lethe_job_duration_seconds', 'Background job runs, by job.');
  readonly foldedEvents = new Counter(
    'lethe_usage_journal_folded_events_total',
    'Usage events folded from the journal into the expiries by this node.',
  );
  readonly journalBacklogEvents = new Gauge(
    'lethe_usage_journal_backlog_events',
    'Accepted usage events not folded into the expiries yet.',
  );
  readonly journalLagSeconds = new Gauge(
    'lethe_usage_journal_lag_seconds',
    'Age of the oldest usage-journal entry not folded yet (0 when the fold has caught up).',
  );

  render(): string {
    return [
      ...this.requests.render(),
      ...this.eventsAccepted.render(),
      ...this.eventsDuplicate.render(),
      ...this.eventsRejected.render(),
      ...this.natsStreamAccepted.render(),
      ...this.natsStreamDuplicate.render(),
      ...this.natsStreamRejected.render(),
      ...this.natsStreamIngestFailures.render(),
      ...this.natsUsageAccepted.render(),
      ...this.natsUsageDuplicate.render(),
      ...this.natsUsageRejected.render(),
      ...this.natsUsageIngestFailures.render(),
      ...this.otlpLogRecords.render(),
      ...this.jobRuns.render(),
      ...this.jobDuration.render(),
      ...this.foldedEvents.render(),
      ...this.journalBacklogEvents.render(),
      ...this.journalLagSeconds.render(),
      '',
    ].join('\n');
  }
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${entries.map(([name, value]) => `${name}="${escape(value)}"`).join(',')}}`;
}
