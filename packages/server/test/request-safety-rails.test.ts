import { type ReportRow, type RightsRequest } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_NOTE } from '../src/requests/dsar-package.js';
import { DEFAULT_REQUEST_SETTINGS } from '../src/requests/request-settings.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import {
  ALL_SQL_DATABASE_KINDS,
  availableSqlDatabaseKinds,
  type TestSqlDatabase,
} from './support/sql-databases.js';
import { createShop as createShopTables, shopConnector } from './support/shared-address-shop.js';

/**
 * Safety rails of a request (docs/rights-requests.md, "Safety rails"), through the API and the
 * runner, on each database: a row reached but not erased carries why in the report (JSON, CSV)
 * and in the DSAR package.
 */
const available = await availableSqlDatabaseKinds();

const ORDERS = "(1, 1, 'a1'), (2, 1, 'a2'), (3, 2, 'b1')";
const config = shopConnector;
const createShop = (database: TestSqlDatabase) => createShopTables(database, ORDERS);

describe.each(ALL_SQL_DATABASE_KINDS)('request safety rails on $type', (kind) => {
  const missing = !available.includes(kind);
  let database: TestSqlDatabase;
  let lethe: Lethe;
  let token: string;
  let disposeLocation: () => Promise<void>;

  beforeAll(async () => {
    if (missing) return;
    database = await kind.create();
    await createShop(database);
    const location = await SQLITE_BACKEND.create({ migrated: true });
    disposeLocation = location.dispose;
    lethe = await createLethe({
      dataDir: location.dataDir,
      env: { SHOP_URL: database.url },
      requestSettings: { ...DEFAULT_REQUEST_SETTINGS, retryBaseMs: 50, retryMaxMs: 200 },
      requestTickMs: 50,
      rateLimit: false,
    });
    token = (await lethe.tokens.mint({ subject: 'admin-ann', role: 'admin', ttlSeconds: 3600 })).token;
    const put = await call('PUT', '/v1/connectors/shop', config(kind.type));
    expect(put.statusCode, put.body).toBe(201);
  });
  afterAll(async () => {
    if (missing) return;
    await lethe?.close();
    await disposeLocation?.();
    await database?.dispose();
  });

  function call(method: 'PUT' | 'POST' | 'GET', url: string, payload?: object) {
    return lethe.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload });
  }

  async function settled(id: string): Promise<RightsRequest> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const request = (await call('GET', `/v1/requests/${id}`)).json<RightsRequest>();
      if (['completed', 'failed'].includes(request.status)) return request;
      if (Date.now() > deadline) throw new Error(`request ${id} is still ${request.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it.skipIf(missing)(
    'a shared row reached is in the report, the CSV and the package with why it is kept',
    async () => {
      const created = await call('POST', '/v1/requests', {
        id: 'dsar-kept',
        type: 'dsar',
        identifiers: { email: 'ada@example.com' },
      });
      expect(created.statusCode, created.body).toBe(201);
      expect((await settled('dsar-kept')).status).toBe('completed');

      const report = (await call('GET', '/v1/requests/dsar-kept/report')).json<{ items: ReportRow[] }>();
      const rows = report.items.map((row) => [row.datasource, row.pk, row.kept ?? 'own']).sort();
      expect(rows).toEqual([
        ['shop.addresses', '1', 'shared'],
        ['shop.customers', '1', 'own'],
        ['shop.orders', '1', 'own'],
        ['shop.orders', '2', 'own'],
      ]);

      const csv = (await call('GET', '/v1/requests/dsar-kept/report?format=csv')).body.trim().split(/\r?\n/);
      const header = csv[0]?.split(',') ?? [];
      const kept = header.indexOf('kept');
      expect(kept).toBeGreaterThan(-1);
      const address = csv.find((line) => line.includes('shop.addresses'))?.split(',');
      expect(address?.[kept]).toBe('shared');
      const customer = csv.find((line) => line.includes('shop.customers'))?.split(',');
      expect(customer?.[kept]).toBe('');

      const dsar = (await call('GET', '/v1/requests/dsar-kept/package')).json<{
        sources: { datasource: string; records: { pk: string; kept?: string }[] }[];
      }>();
      const addresses = dsar.sources.find((source) => source.datasource === 'shop.addresses');
      expect(addresses?.records).toEqual([expect.objectContaining({ pk: '1', kept: 'shared' })]);
      const html = (await call('GET', '/v1/requests/dsar-kept/package?format=html')).body;
      expect(html).toContain(SHARED_NOTE);
    },
  );
});
