import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportRow, RightsRequest } from '@lethe/api';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SQLITE_BACKEND } from './support/backends.js';
import { FIDES_SHOP_DATASET, FIDES_SHOP_SQLITE } from './support/fides-shop-dataset.js';
import { api, runLethe, startServer } from './support/lethe-process.js';
import { mintToken } from './support/mint.js';
import { waitFor } from './support/wait-for.js';

/** A fideslang dataset imported with the CLI into a running Lethe, then a DSAR and a delete run on it. */

const scratch = mkdtempSync(join(tmpdir(), 'lethe-fides-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('lethe connectors import-fides', () => {
  it('imports a Fides dataset that a DSAR and a delete then run on, row by row', async () => {
    const shop = join(scratch, 'shop.db');
    const db = new Database(shop);
    for (const statement of FIDES_SHOP_SQLITE) db.exec(statement);
    db.close();
    const file = join(scratch, 'shop.fides.yml');
    writeFileSync(file, FIDES_SHOP_DATASET);
    const location = await SQLITE_BACKEND.create();
    const token = await mintToken({ dataDir: location.dataDir });
    const server = await startServer({
      dataDir: location.dataDir,
      env: { LETHE_REQUEST_TICK_MS: '100', SHOP_URL: `sqlite:${shop}` },
    });
    try {
      const env = { LETHE_URL: server.url, LETHE_TOKEN: token };
      const args = [
        'connectors',
        'import-fides',
        file,
        '--name',
        'shop',
        '--type',
        'sqlite',
        '--url-env',
        'SHOP_URL',
      ];
      const imported = await runLethe(args, env);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toContain('connector shop saved: 10 tables');
      expect(imported.stderr).toContain("key column 'id'");

      const run = async (id: string, type: string): Promise<string[]> => {
        const created = await api(server.url, token, 'POST', '/v1/requests', {
          id,
          type,
          identifiers: { email: 'ada@example.com' },
        });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        await waitFor(async () => {
          const request = (await api(server.url, token, 'GET', `/v1/requests/${id}`)).body as RightsRequest;
          return request.status === 'completed';
        }, 20_000);
        const report = (await api(server.url, token, 'GET', `/v1/requests/${id}/report`)).body as {
          items: ReportRow[];
        };
        return [
          ...new Set(
            report.items.map((row) => `${row.datasource} ${row.pk}${row.kept ? ` ${row.kept}` : ''}`),
          ),
        ].sort();
      };
      const dsar = await run('fides-dsar', 'dsar');
      // Ada's own rows, and the shared address, employee and product only read: never Bob's.
      expect(dsar).toEqual([
        'shop.address 1 shared',
        'shop.customer 1',
        'shop.employee 1 shared',
        'shop.login 30',
        'shop.order_item order_id=10,item_no=1',
        'shop.orders 10',
        'shop.payment_card 20',
        'shop.product 1 shared',
        'shop.service_request 50',
        'shop.visit 40',
      ]);
      const deleted = await run('fides-delete', 'delete');
      expect(deleted).toEqual(dsar);

      const after = new Database(shop, { readonly: true });
      const all = (table: string) => after.prepare(`select * from ${table} order by 1`).all();
      try {
        // Collections without `delete` are masked (fideslang's default); the others lose Ada's rows.
        expect(all('customer')).toEqual([
          { id: 1, email: null, phone: null, name: 'erased customer', address_id: 1, created: '2024-01-01' },
          {
            id: 2,
            email: 'bob@example.com',
            phone: '+49 30 2',
            name: 'Bob',
            address_id: 1,
            created: '2024-01-02',
          },
        ]);
        expect(all('orders')).toHaveLength(2);
        expect(all('order_item')).toHaveLength(2);
        expect(all('address')).toEqual([
          { id: 1, street: '1 Elm St', zip: '10115' },
          { id: 2, street: '9 Oak Rd', zip: '20095' },
        ]);
        expect(all('employee')).toEqual([{ id: 1, name: 'Eve', email: 'eve@shop.example' }]);
        for (const table of ['payment_card', 'login', 'visit', 'service_request']) {
          expect(all(table).map((row) => (row as { id: number }).id)).toEqual([
            { payment_card: 21, login: 31, visit: 41, service_request: 51 }[table],
          ]);
        }
      } finally {
        after.close();
      }
    } finally {
      await server.stop();
      await location.dispose();
    }
  }, 90_000);

  it('refuses a dataset with a field it cannot express, naming the YAML path, and saves nothing', async () => {
    const file = join(scratch, 'nested.yml');
    writeFileSync(
      file,
      'dataset:\n  - fides_key: x\n    collections:\n      - name: a\n        fields:\n          - name: id\n            fides_meta: { primary_key: true }\n          - name: b\n            fields: [{ name: c }]\n',
    );
    const result = await runLethe([
      'connectors',
      'import-fides',
      file,
      '--name',
      'x',
      '--type',
      'sqlite',
      '--url-env',
      'X_URL',
      '--dry-run',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "dataset[0].collections[0].fields[1].fields: field 'b' has nested fields",
    );
    expect(result.stdout).toBe('');
  });
});
