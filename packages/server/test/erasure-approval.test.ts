import { type ReportRow, type RightsRequest } from '@lethe/api';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_SETTINGS, requestSettingsFromEnv } from '../src/requests/request-settings.js';
import { toJsonSafe } from '../src/requests/sql-connectors/record-values.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import {
  ALL_SQL_DATABASE_KINDS,
  availableSqlDatabaseKinds,
  type TestSqlDatabase,
} from './support/sql-databases.js';
import { createShop as createShopTables, shopConnector } from './support/shared-address-shop.js';

/**
 * The approval rail (docs/rights-requests.md, "Safety rails"): an erasure that would change more
 * rows of one table than the threshold waits for a DPO with its plan shown, having changed
 * nothing; once approved it applies exactly once; grown beyond the approval, it waits again.
 */
const available = await availableSqlDatabaseKinds();
const THRESHOLD = 2;
const TABLES = ['addresses', 'customers', 'orders'] as const;

const ORDERS = "(1, 1, 'a1'), (2, 1, 'a2'), (3, 1, 'a3'), (4, 2, 'b1')";
const config = shopConnector;
const createShop = (database: TestSqlDatabase) => createShopTables(database, ORDERS);

type Dump = Record<string, unknown[]>;

describe('LETHE_ERASURE_APPROVAL_ROWS', () => {
  it('is 1,000 rows by default, a whole number, or off', () => {
    expect(requestSettingsFromEnv({}).erasureApprovalRows).toBe(1_000);
    expect(requestSettingsFromEnv({ LETHE_ERASURE_APPROVAL_ROWS: '50' }).erasureApprovalRows).toBe(50);
    expect(requestSettingsFromEnv({ LETHE_ERASURE_APPROVAL_ROWS: 'off' }).erasureApprovalRows).toBe(0);
    expect(requestSettingsFromEnv({ LETHE_ERASURE_APPROVAL_ROWS: '0' }).erasureApprovalRows).toBe(0);
    expect(() => requestSettingsFromEnv({ LETHE_ERASURE_APPROVAL_ROWS: '10%' })).toThrow(
      /LETHE_ERASURE_APPROVAL_ROWS/,
    );
  });
});

describe.each(ALL_SQL_DATABASE_KINDS)('erasure approval on $type', (kind) => {
  const missing = !available.includes(kind);
  let database: TestSqlDatabase;
  let lethe: Lethe;
  const tokens: Record<'admin' | 'dpo' | 'auditor' | 'service', string> = {
    admin: '',
    dpo: '',
    auditor: '',
    service: '',
  };
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
      requestSettings: {
        ...DEFAULT_REQUEST_SETTINGS,
        retryBaseMs: 50,
        retryMaxMs: 200,
        erasureApprovalRows: THRESHOLD,
      },
      requestTickMs: 50,
      rateLimit: false,
    });
    const mint = (subject: string, role: 'admin' | 'dpo' | 'auditor') =>
      lethe.tokens.mint({ subject, role, ttlSeconds: 3600 }).then((minted) => minted.token);
    tokens.admin = await mint('admin-ann', 'admin');
    tokens.dpo = await mint('dpo-dora', 'dpo');
    tokens.auditor = await mint('auditor-al', 'auditor');
    tokens.service = (
      await lethe.tokens.mint({ subject: 'shop', role: 'service', system: 'shop', ttlSeconds: 3600 })
    ).token;
    const put = await call('PUT', '/v1/connectors/shop', config(kind.type));
    expect(put.statusCode, put.body).toBe(201);
  });
  afterAll(async () => {
    if (missing) return;
    await lethe?.close();
    await disposeLocation?.();
    await database?.dispose();
  });

  function call(method: 'PUT' | 'POST' | 'GET', url: string, payload?: object, token = tokens.admin) {
    return lethe.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload });
  }

  async function dump(): Promise<Dump> {
    const tables: Dump = {};
    for (const table of TABLES) {
      const { rows } = await sql`select * from ${sql.table(table)} order by id`.execute(database.db);
      tables[table] = rows.map((row) => toJsonSafe(row));
    }
    return tables;
  }

  /** Waits until the request has finished or its connector task waits for approval. */
  async function settled(id: string): Promise<RightsRequest> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const request = (await call('GET', `/v1/requests/${id}`)).json<RightsRequest>();
      const waits = request.tasks?.some((task) => task.state === 'waiting_approval') ?? false;
      if (waits || ['completed', 'failed'].includes(request.status)) return request;
      if (Date.now() > deadline) throw new Error(`request ${id} is still ${request.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function create(id: string, type: string, email: string): Promise<RightsRequest> {
    const created = await call('POST', '/v1/requests', { id, type, identifiers: { email } });
    expect(created.statusCode, created.body).toBe(201);
    return settled(id);
  }

  it.skipIf(missing)('a DSAR over the threshold is never held', async () => {
    const request = await create('dsar-ada', 'dsar', 'ada@example.com');
    expect(request.status).toBe('completed');
    expect(request.tasks?.[0]?.erasurePlan).toBeUndefined();
    expect(request.tasks?.[0]?.rowsFound).toBe(5); // Ada, her 3 orders, the shared address
  });

  it.skipIf(missing)('an erasure within the threshold runs at once, its plan recorded', async () => {
    const request = await create('pii-bob', 'delete_pii', 'bob@example.com');
    expect(request.status).toBe('completed');
    const task = request.tasks?.[0];
    expect(task?.state).toBe('done');
    expect(task?.erasurePlan).toEqual({ rows: { customers: 1, orders: 1 }, threshold: THRESHOLD, held: [] });
    const { rows } = await sql<{ note: unknown }>`select note from orders where id = 4`.execute(database.db);
    expect(rows[0]?.note).toBeNull();
  });

  it.skipIf(missing)(
    'an erasure over the threshold waits with its plan, changes nothing, and applies once after approval',
    async () => {
      const before = await dump();
      const waiting = await create('delete-ada', 'delete', 'ada@example.com');
      expect(waiting.status).toBe('in_progress');
      const task = waiting.tasks?.[0];
      expect(task?.state).toBe('waiting_approval');
      expect(task?.erasurePlan).toEqual({
        rows: { customers: 1, orders: 3 },
        threshold: THRESHOLD,
        held: ['orders'],
      });
      expect(task?.rowsChanged).toBe(0);
      expect(task?.attemptLog.map((attempt) => attempt.outcome)).toEqual(['approval-needed']);
      expect(await dump()).toEqual(before);
      const report = (await call('GET', '/v1/requests/delete-ada/report')).json<{ items: ReportRow[] }>();
      expect(report.items).toEqual([]);
      // Not a ticket: nobody completes it by hand.
      const tickets = (await call('GET', '/v1/tickets')).json<{ items: { requestId: string }[] }>();
      expect(tickets.items.filter((ticket) => ticket.requestId === 'delete-ada')).toEqual([]);

      for (const role of ['auditor', 'service'] as const) {
        const refused = await call('POST', '/v1/requests/delete-ada/tasks/1/approve', {}, tokens[role]);
        expect(refused.statusCode, role).toBe(403);
      }

      // Ada orders once more between the plan shown and the approval: 4 > 3 approved, it waits again.
      await database.exec(`insert into orders (id, customer_id, note) values (5, 1, 'a4')`);
      const grown = await dump();
      const approved = await call('POST', '/v1/requests/delete-ada/tasks/1/approve', {}, tokens.dpo);
      expect(approved.statusCode, approved.body).toBe(200);
      const again = await settled('delete-ada');
      const heldAgain = again.tasks?.[0];
      expect(heldAgain?.state).toBe('waiting_approval');
      expect(heldAgain?.erasurePlan).toMatchObject({
        rows: { customers: 1, orders: 4 },
        held: ['orders'],
        approved: { rows: { customers: 1, orders: 3 }, by: 'dpo:dpo-dora' },
      });
      expect(await dump()).toEqual(grown);

      const second = await call('POST', '/v1/requests/delete-ada/tasks/1/approve', {}, tokens.dpo);
      expect(second.statusCode, second.body).toBe(200);
      const done = await settled('delete-ada');
      expect(done.status).toBe('completed');
      const applied = done.tasks?.[0];
      expect(applied?.state).toBe('done');
      expect(applied?.rowsChanged).toBe(5);
      expect(applied?.erasurePlan).toMatchObject({
        rows: { customers: 1, orders: 4 },
        held: [],
        approved: { rows: { customers: 1, orders: 4 } },
      });
      expect(applied?.attemptLog.map((attempt) => attempt.outcome)).toEqual([
        'approval-needed',
        'approval-needed',
        'ok',
      ]);
      const after = await dump();
      expect(after['addresses']).toEqual(grown['addresses']);
      expect(after['customers']).toEqual(
        grown['customers']?.filter((row) => (row as { id: unknown }).id != 1),
      );
      expect(after['orders']).toEqual(grown['orders']?.filter((row) => (row as { id: unknown }).id == 4));

      const late = await call('POST', '/v1/requests/delete-ada/tasks/1/approve', {}, tokens.dpo);
      expect(late.statusCode).toBe(409);
      expect(late.json<{ error: { code: string } }>().error.code).toBe('TASK_STATE_CONFLICT');

      const audit = await call('GET', '/v1/audit?limit=1000');
      expect(audit.body).toContain('task=1 rows=customers:1,orders:3');
      expect(audit.body).toContain('task=1 rows=customers:1,orders:4');
    },
  );
});
