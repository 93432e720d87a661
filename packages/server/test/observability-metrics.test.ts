import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { DEFAULT_REQUEST_SETTINGS } from '../src/requests/request-settings.js';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { ClickPublisher, publishClicksContract } from './support/click-stream.js';
import { loadFixtures, usage } from './support/fixtures.js';
import { waitFor } from './support/wait-for.js';

const DAY_MS = 86_400_000;
const available = await availableBackends();
const docs = readFileSync(new URL('../../../docs/observability.md', import.meta.url), 'utf8');
const ALERTS = new URL('../../../deploy/prometheus/alerts.yml', import.meta.url).pathname;
const ALERT_TESTS = new URL('../../../deploy/prometheus/alerts.test.yaml', import.meta.url).pathname;

/** The value of one sample of the exposition (labels as written, in order), or undefined. */
function sample(exposition: string, name: string, labels = ''): number | undefined {
  const line = exposition.split('\n').find((text) => text.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Every metric family the exposition declares (`# TYPE name type`). */
function families(exposition: string): string[] {
  return [...exposition.matchAll(/^# TYPE (\S+) \S+$/gm)].map((match) => match[1]!);
}

describe.each(ALL_BACKENDS)('/metrics on $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let url: string;
  let dispose: () => Promise<void>;
  let token: string;
  const clock = { now: Date.now() };

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    lethe = await createLethe({
      ...location,
      rateLimit: false,
      now: () => clock.now,
      // The request waits for its identity check: it stays open while the clock moves.
      requestSettings: { ...DEFAULT_REQUEST_SETTINGS, requireVerification: true },
    });
    url = await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    dispose = async () => {
      await lethe.close();
      await location.dispose();
    };
    await loadFixtures(lethe.services);
    token = (await lethe.tokens.mint({ subject: 'metrics-test', role: 'admin', ttlSeconds: 3600 })).token;
  });
  afterAll(async () => {
    if (!missing) await dispose();
  });

  const scrape = async () => {
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return response.text();
  };

  it('counts overdue and due-soon requests, fields past expiry and the unfolded journal', async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here');
    const created = await fetch(`${url}/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'dsar', identifiers: { email: 'ada@example.com' } }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const dueAt = Date.parse(((await created.json()) as { dueAt: string }).dueAt);

    let text = await scrape();
    expect(sample(text, 'lethe_requests_overdue')).toBe(0);
    expect(sample(text, 'lethe_requests_due_soon')).toBe(0);

    clock.now = dueAt - 3 * DAY_MS;
    text = await scrape();
    expect(sample(text, 'lethe_requests_overdue')).toBe(0);
    expect(sample(text, 'lethe_requests_due_soon')).toBe(1);

    clock.now = dueAt + DAY_MS;
    // The fold is held: the event waits in the journal, a day and more old by the moved clock.
    await lethe.services.journal.stop();
    const ingested = await lethe.services.telemetry.ingest(LETHE_ITSELF, [
      usage('metrics-subject', 'user-account-access', ['accounts.email'], '2020-01-01T00:00:00Z'),
    ]);
    expect(ingested.accepted).toBe(1);
    text = await scrape();
    expect(sample(text, 'lethe_requests_overdue')).toBe(1);
    expect(sample(text, 'lethe_requests_due_soon')).toBe(0);
    expect(sample(text, 'lethe_ingest_lag_seconds')).toBeGreaterThan(DAY_MS / 1000);
    expect(sample(text, 'lethe_fields_past_expiry', '{system="accounts"}')).toBeUndefined();

    // Folded: the field (2 years' retention from 2020) is past its expiry in its system.
    await lethe.services.store.freshAggregates();
    text = await scrape();
    expect(sample(text, 'lethe_ingest_lag_seconds')).toBe(0);
    expect(sample(text, 'lethe_fields_past_expiry', '{system="accounts"}')).toBe(1);
    expect(sample(text, 'lethe_metrics_collect_failures_total')).toBe(0);
  });

  it('reports how far behind each stream export is', async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here');
    clock.now = Date.now();
    await publishClicksContract(lethe.services);
    // Held, so that what is appended waits for it.
    await lethe.services.exportRunner?.stop();
    const created = await fetch(`${url}/v1/stream-exports/lagging`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ target: 'file', file: { maxAgeSeconds: 1 } }),
    });
    expect(created.status).toBe(201);
    expect(sample(await scrape(), 'lethe_export_lag_seconds', '{export="lagging"}')).toBe(0);

    await new ClickPublisher(lethe.services.streams).append(3);
    clock.now = Date.now() + 10 * 60_000;
    expect(sample(await scrape(), 'lethe_export_lag_seconds', '{export="lagging"}')).toBeGreaterThanOrEqual(
      600,
    );

    // Running again, it delivers the events: no lag left.
    lethe.services.exportRunner?.start();
    await waitFor(
      async () => sample(await scrape(), 'lethe_export_lag_seconds', '{export="lagging"}') === 0,
      20_000,
    );
  });

  it('exposes build info, process metrics and request latency, and passes promtool', async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here');
    const text = await scrape();
    const version = (
      JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
        version: string;
      }
    ).version;
    expect(sample(text, 'lethe_build_info', `{version="${version}",node="${process.versions.node}"}`)).toBe(
      1,
    );
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(sample(text, name), name).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(
      /^lethe_http_request_duration_seconds_count\{method="POST",route="\/v1\/requests",status="201"\} 1$/m,
    );

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it("documents every Lethe metric it exposes in docs/observability.md; the others are prom-client's", async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here');
    const exposed = families(await scrape());
    const documented = [...docs.matchAll(/^\| `(lethe_[a-z_:]+)` +\|/gm)].map((match) => match[1]!).sort();
    expect(documented).toEqual(exposed.filter((name) => name.startsWith('lethe_')).sort());
    expect(exposed.filter((name) => !/^(lethe|process|nodejs)_/.test(name))).toEqual([]);
  });
});

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    const output = execFileSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' });
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fire as their unit tests say (promtool test rules)', () => {
    const output = execFileSync('promtool', ['test', 'rules', ALERT_TESTS], { encoding: 'utf8' });
    expect(output).toContain('SUCCESS');
  });
});
