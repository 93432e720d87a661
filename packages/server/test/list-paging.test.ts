import type { AuditPage, ConsentViolationPage, RequestList } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_SETTINGS } from '../src/requests/request-settings.js';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';

const available = await availableBackends();
const REQUESTS = 230;
const DAY = 86_400_000;

/**
 * The dashboard's lists page on the server (docs/api.md, "Lists"): rights requests searched by
 * id prefix, type, status and due date, sorted and paged past any cap; consent violations paged
 * and filtered by system and policy; the audit log's total. On every backend.
 */
describe.each(ALL_BACKENDS)('list paging: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  const tokens = { dpo: '', auditor: '', service: '', limited: '', admin: '' };
  const now = Date.now();

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    dispose = location.dispose;
    // Verification and approval required: every request stays where it is filed.
    lethe = await createLethe({
      ...location,
      rateLimit: false,
      requestSettings: { ...DEFAULT_REQUEST_SETTINGS, requireVerification: true, requireApproval: true },
    });
    const mint = async (request: Parameters<Lethe['tokens']['mint']>[0]) =>
      (await lethe.tokens.mint(request)).token;
    tokens.dpo = await mint({ subject: 'dpo-lists', role: 'dpo', ttlSeconds: 600 });
    tokens.admin = await mint({ subject: 'admin-lists', role: 'admin', ttlSeconds: 600 });
    tokens.auditor = await mint({ subject: 'auditor-lists', role: 'auditor', ttlSeconds: 600 });
    tokens.service = await mint({
      subject: 'svc-lists',
      role: 'service',
      system: 'accounts',
      ttlSeconds: 600,
    });
    tokens.limited = await mint({
      subject: 'dpo-contact',
      role: 'dpo',
      categories: ['user.contact'],
      ttlSeconds: 600,
    });
    // Received one every six hours going back: the oldest are past their month, the newest not.
    for (let index = 0; index < REQUESTS; index += 1) {
      const response = await call('POST', '/v1/requests', {
        id: `req-${String(index).padStart(3, '0')}`,
        type: index % 3 === 0 ? 'delete' : 'dsar',
        identifiers: { email: `person-${index}@example.com` },
        receivedAt: new Date(now - index * 6 * 3_600_000).toISOString(),
      });
      expect(response.statusCode, response.body).toBe(201);
    }
    await call('POST', '/v1/requests/req-001/cancel', { reason: 'asked by mistake' });
  }, 120_000);
  afterAll(async () => {
    if (missing) return;
    await lethe.close();
    await dispose();
  });

  function call(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: unknown,
    as: keyof typeof tokens = 'dpo',
  ) {
    return lethe.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[as]}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  async function list(query: string, as: keyof typeof tokens = 'dpo'): Promise<RequestList> {
    const response = await call('GET', `/v1/requests?${query}`, undefined, as);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<RequestList>();
  }
  const ids = (page: RequestList) => page.items.map((request) => request.id);

  it.skipIf(missing)('pages past 200 with offset, and says how many match', async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < REQUESTS; offset += 100) {
      const page = await list(`limit=100&offset=${offset}&sort=created`);
      expect(page.total).toBe(REQUESTS);
      expect(page.next).toBeUndefined();
      seen.push(...ids(page));
    }
    expect(seen).toHaveLength(REQUESTS);
    expect(new Set(seen).size).toBe(REQUESTS);
    // The default order still walks with its cursor.
    const first = await list('limit=150');
    expect(first.next).toBeDefined();
    const second = await list(`limit=150&cursor=${encodeURIComponent(first.next ?? '')}`);
    expect(new Set([...ids(first), ...ids(second)]).size).toBe(REQUESTS);
  });

  it.skipIf(missing)('finds requests by id prefix, exactly', async () => {
    const found = await list('q=req-01');
    expect(ids(found).sort()).toEqual(Array.from({ length: 10 }, (_, digit) => `req-01${digit}`));
    expect(found.total).toBe(10);
    expect((await list('q=req-229')).items.map((request) => request.id)).toEqual(['req-229']);
    // No wildcards, no case folding: the text is a prefix as typed.
    expect((await list('q=req-0%25')).total).toBe(0);
    expect((await list('q=req_01')).total).toBe(0);
    expect((await list('q=REQ-01')).total).toBe(0);
  });

  it.skipIf(missing)('filters by type and status, and sorts by due date and status', async () => {
    const deletes = await list('type=delete&limit=500');
    expect(deletes.total).toBe(Math.ceil(REQUESTS / 3));
    expect(deletes.items.every((request) => request.type === 'delete')).toBe(true);
    const canceled = await list('status=canceled');
    expect(ids(canceled)).toEqual(['req-001']);
    const byDue = await list('sort=due&limit=500');
    const dues = byDue.items.map((request) => request.dueAt);
    expect(dues).toEqual([...dues].sort());
    expect(byDue.items[0]?.id).toBe(`req-${REQUESTS - 1}`);
    const latestFirst = await list('sort=-due&limit=5');
    expect(latestFirst.items[0]?.id).toBe('req-000');
    const byStatus = await list('sort=-status&limit=500');
    const statuses = byStatus.items.map((request) => request.status);
    expect(statuses).toEqual([...statuses].sort().reverse());
  });

  it.skipIf(missing)('narrows by due date: overdue, the next seven days, or between bounds', async () => {
    const all = await list('limit=500&sort=due');
    const open = all.items.filter((request) => request.status !== 'canceled');
    const overdue = await list('due=overdue&limit=500');
    expect(ids(overdue).sort()).toEqual(
      open
        .filter((request) => Date.parse(request.dueAt) < Date.now())
        .map((request) => request.id)
        .sort(),
    );
    expect(overdue.total).toBeGreaterThan(0);
    expect((await list('overdue=true&limit=500')).total).toBe(overdue.total);
    const soon = await list('due=7d&limit=500');
    expect(soon.total).toBeGreaterThan(0);
    for (const request of soon.items) {
      expect(request.overdue).toBe(false);
      expect(Date.parse(request.dueAt)).toBeLessThan(Date.now() + 7 * DAY);
    }
    const day = new Date(now + 10 * DAY).toISOString().slice(0, 10);
    const before = await list(`dueBefore=${day}&limit=500`);
    const after = await list(`dueAfter=${day}&limit=500`);
    expect((before.total ?? 0) + (after.total ?? 0)).toBe(REQUESTS);
    for (const request of before.items) expect(request.dueAt < `${day}T00:00:00.000Z`).toBe(true);
    // A window and a finished status: nothing, rather than an error.
    expect(await list('due=overdue&status=completed')).toEqual({ items: [], total: 0 });
  });

  it.skipIf(missing)('answers bad parameters with 400 and a stable code', async () => {
    const expectCode = async (query: string, code: string) => {
      const response = await call('GET', `/v1/requests?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code, query).toBe(code);
    };
    await expectCode('sort=priority', 'VALIDATION_FAILED');
    await expectCode('due=later', 'VALIDATION_FAILED');
    await expectCode('type=erase', 'VALIDATION_FAILED');
    await expectCode('offset=-1', 'VALIDATION_FAILED');
    await expectCode('offset=1000000', 'VALIDATION_FAILED');
    await expectCode('limit=0', 'VALIDATION_FAILED');
    await expectCode('status=lost', 'VALIDATION_FAILED');
    await expectCode('dueBefore=tomorrow', 'INVALID_TIME');
    await expectCode('dueAfter=2026-02-30', 'INVALID_TIME');
    await expectCode('cursor=1.req-000&sort=due', 'VALIDATION_FAILED');
    await expectCode('cursor=nonsense', 'INVALID_CURSOR');
  });

  it.skipIf(missing)('shows the list only to tokens that may see every request', async () => {
    const service = await call('GET', '/v1/requests?q=req-00', undefined, 'service');
    expect(service.statusCode).toBe(403);
    expect(service.json().error.code).toBe('FORBIDDEN');
    // A category-limited token could learn of requests about data it may not see: refused.
    const limited = await call('GET', '/v1/requests?q=req-00', undefined, 'limited');
    expect(limited.statusCode).toBe(403);
    expect(limited.json().error.code).toBe('CATEGORY_NOT_PERMITTED');
    // An auditor searches too, and never gets the identifiers.
    const audited = await list('q=req-00&sort=due', 'auditor');
    expect(audited.total).toBe(10);
    for (const request of audited.items) expect(request.identifiers).toBeUndefined();
  });

  it.skipIf(missing)('pages consent violations by offset and filters them by system and policy', async () => {
    for (const [name, body] of Object.entries(POLICIES)) {
      expect((await call('PUT', `/v1/policies/${name}`, body, 'admin')).statusCode).toBeLessThan(300);
    }
    for (const [name, body] of Object.entries(SYSTEMS)) {
      expect((await call('PUT', `/v1/systems/${name}`, body, 'admin')).statusCode).toBeLessThan(300);
    }
    // Marketing mail without consent: a violation per subject and system.
    const events = Array.from({ length: 30 }, (_, index) =>
      usage(
        `v-${index}`,
        'send-marketing-email',
        ['accounts.email'],
        `2024-05-${String((index % 28) + 1).padStart(2, '0')}T00:00:00Z`,
        index % 2 === 0 ? 'mailer' : 'accounts',
      ),
    );
    expect((await call('POST', '/v1/events', { events }, 'admin')).statusCode).toBe(200);
    const page = async (query: string) => {
      const response = await call('GET', `/v1/consent/violations?${query}`, undefined, 'admin');
      expect(response.statusCode, response.body).toBe(200);
      return response.json<ConsentViolationPage>();
    };
    const seen: string[] = [];
    for (let offset = 0; offset < 30; offset += 10) {
      const shown = await page(`limit=10&offset=${offset}`);
      expect(shown.total).toBe(30);
      seen.push(...shown.items.map((item) => `${item.subject}/${item.system}`));
    }
    expect(new Set(seen).size).toBe(30);
    const mailer = await page('system=mailer&policy=send-marketing-email&limit=100');
    expect(mailer.total).toBe(15);
    expect(mailer.items.every((item) => item.system === 'mailer')).toBe(true);
    expect((await page('system=nowhere')).total).toBe(0);
    const both = await call('GET', `/v1/consent/violations?offset=10&cursor=${mailer.next ?? 'x'}`);
    expect(both.statusCode).toBe(400);
  });

  it.skipIf(missing)('says how long the audit log is, so its pages can be numbered', async () => {
    const response = await call('GET', '/v1/audit?after=0&limit=5', undefined, 'auditor');
    expect(response.statusCode, response.body).toBe(200);
    const page = response.json<AuditPage>();
    expect(page.items.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5]);
    // This read is itself recorded: the total covers it.
    expect(page.total).toBeGreaterThan(REQUESTS);
    const last = await call('GET', `/v1/audit?after=${(page.total ?? 0) - 1}&limit=5`, undefined, 'auditor');
    expect(last.json<AuditPage>().items[0]?.seq).toBe(page.total);
  });
});
