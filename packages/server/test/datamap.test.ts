import type {
  DataMapDrift,
  DataMapGraph,
  DataMapGraphSummary,
  Destination,
  Holder,
  RopaReport,
} from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { companyManifest } from './support/company-manifest.js';

/** The data map over HTTP: the graph and its filters, transitive queries, drift and the RoPA. */
let lethe: Lethe;
let dispose: () => Promise<void>;
let admin: string;

beforeAll(async () => {
  const location = await SQLITE_BACKEND.create({ migrated: true });
  lethe = await createLethe({ ...location, rateLimit: false });
  dispose = location.dispose;
  admin = (await lethe.tokens.mint({ subject: 'datamap-admin', role: 'admin', ttlSeconds: 600 })).token;
  const manifest = companyManifest();
  delete manifest.sources; // no Prometheus here; prometheus-discovery.test.ts covers discovery
  const applied = await call('POST', '/v1/manifest', manifest);
  expect(applied.statusCode).toBe(200);
  const at = '2026-11-01T10:00:00Z';
  const published = await call('POST', '/v1/events', {
    events: [
      {
        subject: 'u-1',
        system: 'accounts',
        policy: 'user-account-access',
        fields: ['accounts.email', 'accounts.name'],
        at,
      },
      {
        subject: 'u-1',
        system: 'orders',
        policy: 'order-delivery',
        fields: ['orders.address', 'orders.card'],
        at,
      },
      // The mailer reads the accounts' email: a field it does not declare (drift).
      { subject: 'u-1', system: 'mailer', policy: 'send-marketing-email', fields: ['accounts.email'], at },
      {
        subject: 'u-1',
        system: 'mailer',
        policy: 'send-marketing-email',
        fields: ['mailer_lists.email'],
        at,
      },
    ],
  });
  expect(published.json()).toMatchObject({ accepted: 4, rejected: [] });
});
afterAll(async () => {
  await lethe.close();
  await dispose();
});

function call(method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown, token = admin) {
  return lethe.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

async function graph(query = ''): Promise<DataMapGraph> {
  const response = await call('GET', `/v1/datamap/graph${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

const ids = (g: DataMapGraph) => g.nodes.map((n) => n.id);
const edges = (g: DataMapGraph, kind?: string) =>
  g.edges.filter((e) => kind === undefined || e.kind === kind).map((e) => `${e.from} ${e.kind} ${e.to}`);

describe('the graph', () => {
  it('holds teams, systems, categories and clients, every entry marked as declared', async () => {
    const g = await graph();
    expect(ids(g)).toEqual(
      expect.arrayContaining([
        'team:identity',
        'system:accounts',
        'system:stripe',
        'category:user.contact.email',
      ]),
    );
    expect(edges(g, 'transmit')).toEqual([
      'system:accounts transmit system:mailer',
      'system:accounts transmit system:warehouse',
      'system:orders transmit system:stripe',
      'system:warehouse transmit system:analytics-vendor',
    ]);
    expect(edges(g, 'owns')).toContain('team:commerce owns system:stripe');
    expect(edges(g, 'store')).toContain('system:orders store category:user.financial.credit_card');
    const stripe = g.nodes.find((n) => n.id === 'system:stripe');
    expect(stripe).toMatchObject({
      kind: 'system',
      thirdParty: true,
      country: 'US',
      sources: ['declared'],
      stale: false,
    });
    expect(g.nodes.filter((n) => n.kind === 'client').map((n) => n.label)).toEqual([
      'accounts-http',
      'orders-ticket',
    ]);
  });

  it('filters by a parent category, covering its children, and keeps only the matching flow categories', async () => {
    const g = await graph('?category=user.financial');
    expect(edges(g, 'transmit')).toEqual(['system:orders transmit system:stripe']);
    expect(g.edges.find((e) => e.kind === 'transmit')?.categories).toEqual(['user.financial.credit_card']);
    expect(edges(g, 'store')).toEqual(['system:orders store category:user.financial.credit_card']);
    expect(ids(g)).not.toContain('system:accounts');

    const contact = await graph('?category=user.contact');
    expect(edges(contact, 'transmit')).toHaveLength(4);
  });

  it('filters by team and by system, and combines filters', async () => {
    const data = await graph('?team=data');
    expect(ids(data)).toEqual(
      expect.arrayContaining(['system:warehouse', 'system:analytics-vendor', 'system:accounts']),
    );
    expect(ids(data)).not.toContain('system:stripe');

    const mailer = await graph('?system=mailer');
    expect(edges(mailer, 'transmit')).toEqual(['system:accounts transmit system:mailer']);

    const both = await graph('?team=commerce&category=user.contact.address');
    expect(edges(both, 'transmit')).toEqual(['system:orders transmit system:stripe']);
    expect(both.edges.find((e) => e.kind === 'transmit')?.categories).toEqual(['user.contact.address']);
  });

  it('answers 404 for an unknown team or system and 400 for a malformed category', async () => {
    expect((await call('GET', '/v1/datamap/graph?team=nobody')).json()).toMatchObject({
      error: { code: 'TEAM_NOT_FOUND' },
    });
    expect((await call('GET', '/v1/datamap/graph?system=nothing')).statusCode).toBe(404);
    expect((await call('GET', '/v1/datamap/graph?category=User..x')).json()).toMatchObject({
      error: { code: 'INVALID_CATEGORY' },
    });
  });

  it('pages the edges with limit and after: the pages together are the whole answer', async () => {
    for (const query of ['', '?category=user', '?team=data']) {
      const whole = await graph(query);
      const seen: DataMapGraph['edges'] = [];
      const nodes = new Set<string>();
      let after: string | undefined;
      let pages = 0;
      do {
        const separator = query ? '&' : '?';
        const page = await graph(
          `${query}${separator}limit=3${after ? `&after=${encodeURIComponent(after)}` : ''}`,
        );
        expect(page.edges.length).toBeLessThanOrEqual(3);
        // Every node a page's edge touches comes with the page.
        const pageNodes = new Set(ids(page));
        for (const edge of page.edges) {
          expect(pageNodes.has(edge.from) && pageNodes.has(edge.to)).toBe(true);
        }
        seen.push(...page.edges);
        for (const id of pageNodes) nodes.add(id);
        after = page.next;
        pages += 1;
      } while (after !== undefined && pages < 100);
      expect(seen).toEqual(whole.edges);
      expect([...nodes].sort()).toEqual(ids(whole).sort());
      expect(pages).toBe(Math.max(1, Math.ceil(whole.edges.length / 3)));
    }
  });

  it('counts instead of listing with summary=true', async () => {
    const whole = await graph('?category=user.contact');
    const response = await call('GET', '/v1/datamap/graph?category=user.contact&summary=true');
    expect(response.statusCode, response.body).toBe(200);
    const summary = response.json<DataMapGraphSummary>();
    expect(summary.edges.transmit).toBe(whole.edges.filter((e) => e.kind === 'transmit').length);
    expect(summary.edges.store).toBe(whole.edges.filter((e) => e.kind === 'store').length);
    expect(summary.nodes.system).toBe(whole.nodes.filter((n) => n.kind === 'system').length);
    const perKey = new Map<string, number>();
    for (const edge of whole.edges) {
      if (edge.kind !== 'store' && edge.kind !== 'transmit') continue;
      for (const key of edge.categories) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    expect(summary.categories).toEqual(
      [...perKey].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, edges]) => ({ key, edges })),
    );
    expect(summary.teamFlows.reduce((sum, pair) => sum + pair.flows, 0)).toBe(summary.edges.transmit);
    expect(summary.teamPairs).toBe(summary.teamFlows.length);
  });

  it('refuses a cursor it cannot read, after without limit, and a paged summary, with 400', async () => {
    for (const [query, code] of [
      ['?limit=2&after=nonsense', 'INVALID_CURSOR'],
      ['?after=owns:team:data->system:warehouse', 'VALIDATION_FAILED'],
      ['?summary=true&limit=5', 'VALIDATION_FAILED'],
      ['?limit=0', 'VALIDATION_FAILED'],
      ['?limit=10001', 'VALIDATION_FAILED'],
    ] as const) {
      const response = await call('GET', `/v1/datamap/graph${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json(), query).toMatchObject({ error: { code } });
    }
  });

  it('follows writes: a new flow shows at once', async () => {
    expect(
      (await call('PUT', '/v1/flows/orders/warehouse', { categories: ['user.contact.address'] })).statusCode,
    ).toBe(201);
    expect(edges(await graph('?system=orders'), 'transmit')).toContain(
      'system:orders transmit system:warehouse',
    );
    expect((await call('DELETE', '/v1/flows/orders/warehouse')).statusCode).toBe(204);
    expect(edges(await graph('?system=orders'), 'transmit')).not.toContain(
      'system:orders transmit system:warehouse',
    );
  });
});

describe('transitive queries', () => {
  it('which systems hold user.contact: stores, plus every system a flow carries it to, transitively', async () => {
    const response = await call('GET', '/v1/datamap/holders?category=user.contact.email');
    const holders = response.json<{ items: Holder[] }>().items;
    const byName = Object.fromEntries(holders.map((h) => [h.system, h]));
    expect(byName['accounts']).toMatchObject({ how: 'stores', via: ['accounts'] });
    expect(byName['mailer']).toMatchObject({ how: 'stores' }); // user.contact.email.marketing is below it
    expect(byName['warehouse']).toMatchObject({ how: 'receives', via: ['accounts', 'warehouse'] });
    expect(byName['analytics-vendor']).toMatchObject({
      how: 'receives',
      via: ['accounts', 'warehouse', 'analytics-vendor'],
    });
    expect(byName['stripe']).toBeUndefined();
  });

  it('where does accounts send user.contact.email, with the shortest paths', async () => {
    const response = await call(
      'GET',
      '/v1/datamap/systems/accounts/destinations?category=user.contact.email',
    );
    const destinations = response.json<{ items: Destination[] }>().items;
    expect(destinations.map((d) => [d.system, d.depth, d.path.join('>')])).toEqual([
      ['mailer', 1, 'accounts>mailer'],
      ['warehouse', 1, 'accounts>warehouse'],
      ['analytics-vendor', 2, 'accounts>warehouse>analytics-vendor'],
    ]);
    expect((await call('GET', '/v1/datamap/systems/nowhere/destinations')).statusCode).toBe(404);
  });
});

describe('drift', () => {
  it('lists a system using a field another system declares; flows are not judged without discovery', async () => {
    const drift = (await call('GET', '/v1/datamap/drift')).json<DataMapDrift>();
    expect(drift.observing).toBe(false);
    expect(drift.unobservedFlows).toEqual([]);
    expect(drift.undeclaredUses).toEqual([
      {
        system: 'mailer',
        field: 'accounts.email',
        owner: 'accounts',
        policies: ['send-marketing-email'],
        lastUseAt: '2026-11-01T10:00:00.000Z',
        count: 1,
      },
    ]);
  });
});

describe('record of processing activities', () => {
  it('has one row per policy with the Art. 30(1) columns filled from the map and telemetry', async () => {
    const response = await call('GET', '/v1/reports/ropa');
    expect(response.statusCode, response.body).toBe(200);
    const report = response.json<RopaReport>();
    expect(report.controller).toMatchObject({ name: 'Acme GmbH' });
    expect(report.dpo).toMatchObject({ name: 'Dana Privacy' });
    expect(report.rows.map((r) => r.policy)).toEqual([
      'order-delivery',
      'send-marketing-email',
      'user-account-access',
    ]);
    const orders = report.rows.find((r) => r.policy === 'order-delivery');
    expect(orders).toMatchObject({ legalBasis: 'contract', dataSubjects: ['customers'] });
    expect(orders?.personalDataCategories).toEqual(
      expect.arrayContaining(['user.contact.address', 'user.financial.credit_card']),
    );
    expect(orders?.recipients.map((r) => r.system)).toContain('stripe');
    expect(orders?.transfers).toEqual([
      { system: 'stripe', country: 'US', safeguards: 'SCC 2021/914 module 2' },
    ]);
    expect(orders?.erasureTimeLimits).toEqual(
      expect.arrayContaining([{ category: 'user.financial.credit_card', retention: 'P120D' }]),
    );
    const account = report.rows.find((r) => r.policy === 'user-account-access');
    expect(account?.reviewedOn).toBe('2026-09-15');
    // accounts → warehouse (DE) is a recipient inside the EEA; no transfer.
    expect(account?.recipients.map((r) => r.system)).toEqual(expect.arrayContaining(['mailer', 'warehouse']));
    expect(account?.transfers).toEqual([]);
    expect(report.securityMeasures).toContain('Encryption at rest (AES-256)');
  });

  it('comes as CSV with Accept: text/csv or ?format=csv', async () => {
    const viaAccept = await lethe.app.inject({
      method: 'GET',
      url: '/v1/reports/ropa',
      headers: { authorization: `Bearer ${admin}`, accept: 'text/csv' },
    });
    expect(viaAccept.headers['content-type']).toMatch(/^text\/csv/);
    const lines = viaAccept.body.trimEnd().split('\r\n');
    expect(lines[0]).toContain('purposes (b)');
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.startsWith('order-delivery'))).toContain('stripe');
    const viaQuery = await call('GET', '/v1/reports/ropa?format=csv');
    expect(viaQuery.body).toBe(viaAccept.body);
    expect(viaQuery.headers['content-disposition']).toContain('record-of-processing.csv');
  });

  it('needs a token without category limits', async () => {
    const limited = (
      await lethe.tokens.mint({
        subject: 'limited',
        role: 'dpo',
        categories: ['user.contact'],
        ttlSeconds: 600,
      })
    ).token;
    expect((await call('GET', '/v1/reports/ropa', undefined, limited)).json()).toMatchObject({
      error: { code: 'CATEGORY_NOT_PERMITTED' },
    });
    const g = (await call('GET', '/v1/datamap/graph', undefined, limited)).json<DataMapGraph>();
    expect(
      g.nodes.filter((n) => n.kind === 'category').every((n) => n.label.startsWith('user.contact')),
    ).toBe(true);
    const toStripe = g.edges.find((e) => e.kind === 'transmit' && e.to === 'system:stripe');
    expect(toStripe?.categories).toEqual(['user.contact.address']);
    expect(g.edges.flatMap((e) => e.categories).every((c) => c.startsWith('user.contact'))).toBe(true);
  });
});
