import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataMapDeclaration } from '@lethe/client/prometheus';
import { discoveryNames } from '../src/discovery/discovery-names.js';
import { queryPrometheus } from '../src/discovery/prometheus-api.js';
import { scrapeTargets } from '../src/discovery/scrape-targets.js';
import type { SeriesObservation } from '../src/domain/datamap.js';
import { startMetricsService, type MetricsService } from './support/metrics-service.js';
import { prometheusAvailability, startPrometheus, type RunningPrometheus } from './support/prometheus.js';

/**
 * Discovery against a real Prometheus scraping two services that declare their data map with the
 * SDK (`@lethe/client/prometheus`), and direct mode against the same kind of services.
 */

const skipReason = prometheusAvailability();
const names = discoveryNames();

const NEWSLETTER: DataMapDeclaration = {
  team: 'growth',
  service: 'newsletter',
  transmits: [{ to: 'mailer', dataTypes: ['user.contact.email', 'user.name'] }],
  stores: ['user.contact.email'],
  clients: [{ address: 'https://news.example', protocol: 'https' }],
};

const BILLING: DataMapDeclaration = {
  team: 'finance',
  service: 'billing',
  transmits: [{ to: 'ledger', dataTypes: ['user.financial.iban'] }],
  stores: ['user.financial.iban', 'user.name'],
  clients: [{ address: 'billing.internal:8443', protocol: 'grpc' }],
};

/** The observations a declaration should produce, as strings so that failures read well. */
function expected(...declarations: DataMapDeclaration[]): string[] {
  const list: SeriesObservation[] = [];
  for (const { team, service, transmits = [], stores = [], clients = [] } of declarations) {
    for (const { to, dataTypes } of transmits) {
      for (const dataType of dataTypes) {
        list.push({ kind: 'transmit', team, system: service, target: to, dataType, protocol: '' });
      }
    }
    for (const dataType of stores) {
      list.push({ kind: 'store', team, system: service, target: '', dataType, protocol: '' });
    }
    for (const { address, protocol } of clients) {
      list.push({ kind: 'client', team, system: '', target: address, dataType: '', protocol });
    }
  }
  return keys(list);
}

function keys(list: readonly SeriesObservation[]): string[] {
  return list
    .map(
      (o) =>
        `${o.kind} team=${o.team} system=${o.system} target=${o.target} type=${o.dataType} protocol=${o.protocol}`,
    )
    .sort();
}

/** Calls `read` until `done` holds or the deadline passes; returns the last value either way. */
async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const sameAs = (want: string[]) => (got: string[]) => JSON.stringify(got) === JSON.stringify(want);

describe.skipIf(skipReason !== undefined)('Prometheus discovery against a real Prometheus', () => {
  let newsletter: MetricsService;
  let billing: MetricsService;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    newsletter = await startMetricsService(NEWSLETTER);
    billing = await startMetricsService(BILLING, { format: 'openmetrics' });
    prometheus = await startPrometheus([newsletter.hostPort, billing.hostPort], { scrapeInterval: '1s' });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await newsletter?.stop();
    await billing?.stop();
  });

  it('finds exactly the declared series of both services, and loses a removed one', async () => {
    const query = async () => keys(await queryPrometheus(prometheus.url, names, { timeoutMs: 5_000 }));
    const all = expected(NEWSLETTER, BILLING);
    expect(await eventually(query, sameAs(all))).toEqual(all);

    newsletter.metrics.removeTransmit('mailer', ['user.name']);
    billing.metrics.removeClient('billing.internal:8443', 'grpc');
    const remaining = expected(
      { ...NEWSLETTER, transmits: [{ to: 'mailer', dataTypes: ['user.contact.email'] }] },
      { ...BILLING, clients: [] },
    );
    // Staleness markers make them disappear from instant queries right after the next scrape.
    expect(await eventually(query, sameAs(remaining))).toEqual(remaining);
  });
});

describe('direct mode against SDK-declared services', () => {
  let services: MetricsService[] = [];

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
  });

  it('scrapes both formats, and reports a target that is down without losing the others', async () => {
    services = [
      await startMetricsService(NEWSLETTER),
      await startMetricsService(BILLING, { format: 'openmetrics' }),
    ];
    const down = await startMetricsService({ team: 'x', service: 'down' });
    await down.stop();

    const targets = [...services.map((service) => service.metricsUrl), down.metricsUrl];
    const { observations, failures } = await scrapeTargets(targets, names, { timeoutMs: 5_000 });

    expect(keys(observations)).toEqual(expected(NEWSLETTER, BILLING));
    expect(failures).toHaveLength(1);
    expect(failures[0]?.target).toBe(down.metricsUrl);
    expect(failures[0]?.message).toContain(`Scraping ${down.metricsUrl} failed`);

    services[0]?.metrics.removeStore('user.contact.email');
    const after = await scrapeTargets(targets.slice(0, 2), names);
    expect(keys(after.observations)).toEqual(expected({ ...NEWSLETTER, stores: [] }, BILLING));
  });
});

if (skipReason !== undefined) {
  describe('Prometheus discovery against a real Prometheus', () => {
    it.skip(skipReason, () => undefined);
  });
}
