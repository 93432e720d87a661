import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';

const available = await availableBackends();
const DAY = 86_400_000;

/**
 * Legal holds and the due feed (docs/retention.md "Legal holds", "Due and upcoming"), through
 * HTTP on every backend. Fixtures: accounts.email (user.contact.email) and accounts.name
 * (user.name) in system accounts, orders.address (user.contact.address) in orders.
 */
describe.each(ALL_BACKENDS)('legal holds: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  const tokens = { admin: '', dpo: '', auditor: '', plainAuditor: '', limitedDpo: '', service: '' };

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    lethe = await createLethe({ ...location, rateLimit: false });
    dispose = location.dispose;
    const mint = async (request: Parameters<Lethe['tokens']['mint']>[0]) =>
      (await lethe.tokens.mint(request)).token;
    tokens.admin = await mint({ subject: 'holds-admin', role: 'admin', ttlSeconds: 600 });
    tokens.dpo = await mint({ subject: 'dpo-anna', role: 'dpo', ttlSeconds: 600 });
    tokens.auditor = await mint({
      subject: 'holds-auditor',
      role: 'auditor',
      grants: ['subject-ids'],
      ttlSeconds: 600,
    });
    tokens.plainAuditor = await mint({ subject: 'holds-auditor-2', role: 'auditor', ttlSeconds: 600 });
    tokens.limitedDpo = await mint({
      subject: 'dpo-2',
      role: 'dpo',
      categories: ['user.name'],
      ttlSeconds: 600,
    });
    tokens.service = await mint({
      subject: 'accounts-svc',
      role: 'service',
      system: 'accounts',
      ttlSeconds: 600,
    });
    for (const [name, body] of Object.entries(POLICIES)) await call('PUT', `/v1/policies/${name}`, body);
    for (const [name, body] of Object.entries(SYSTEMS)) await call('PUT', `/v1/systems/${name}`, body);
    const iso = (ms: number) => new Date(ms).toISOString();
    const now = Date.now();
    const events = [
      usage('h-1', 'user-account-access', ['accounts.email', 'accounts.name'], '2023-01-05T00:00:00Z'),
      usage('h-1', 'order-delivery', ['orders.address'], '2023-03-01T00:00:00Z'),
      // Upcoming: used recently, kept for two years.
      usage('h-2', 'user-account-access', ['accounts.email'], iso(now - 30 * DAY)),
      // A week of missed days: one subject due on each of the last seven days.
      ...[1, 2, 3, 4, 5, 6, 7].map((k) =>
        usage(`w-${k}`, 'order-delivery', ['orders.address'], iso(now - (120 + k) * DAY)),
      ),
    ];
    expect((await call('POST', '/v1/events', { events })).statusCode).toBe(200);
  });
  afterAll(async () => {
    if (missing) return;
    await lethe.close();
    await dispose();
  });

  function call(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
    as: keyof typeof tokens = 'admin',
  ) {
    return lethe.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[as]}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  type Item = { subject: string; field: string; status: string; hold?: string };
  const feed = async (query = 'from=2023-01-01&to=2030-12-31', as: keyof typeof tokens = 'admin') => {
    const response = await call('GET', `/v1/expiries?${query}`, undefined, as);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items as Item[];
  };
  const statusOf = (items: Item[], subject: string, field: string) =>
    items.find((item) => item.subject === subject && item.field === field);
  const due = async (query: string, as: keyof typeof tokens = 'admin') => {
    const response = await call('GET', `/v1/expiries/due?${query}`, undefined, as);
    expect(response.statusCode, response.body).toBe(200);
    return (response.json().items as Item[]).map((item) => `${item.subject} ${item.field} ${item.status}`);
  };

  it.skipIf(missing)('marks every feed row due or upcoming by the clock', async () => {
    const items = await feed();
    expect(statusOf(items, 'h-1', 'accounts.email')).toMatchObject({ status: 'due' });
    expect(statusOf(items, 'h-2', 'accounts.email')).toMatchObject({ status: 'upcoming' });
    expect(items.every((item) => item.hold === undefined)).toBe(true);
  });

  it.skipIf(missing)(
    'gives a system everything due on any past day, minus what it acknowledged',
    async () => {
      const week = (await due('system=orders')).filter((line) => line.startsWith('w-'));
      expect(week).toEqual([7, 6, 5, 4, 3, 2, 1].map((k) => `w-${k} orders.address due`));
      expect(await due('system=accounts')).toEqual(['h-1 accounts.email due', 'h-1 accounts.name due']);
      // An erasure confirmed by the system takes the field off what is due.
      const erased = await call('POST', '/v1/subjects/w-3/erasures', { system: 'orders' });
      expect(erased.statusCode, erased.body).toBe(200);
      expect(await due('system=orders')).not.toContain('w-3 orders.address due');
      // Paging: every due row is reached by following `next`.
      const seen: string[] = [];
      let next: string | undefined;
      do {
        const page = (
          await call('GET', `/v1/expiries/due?system=orders&limit=2${next ? `&cursor=${next}` : ''}`)
        ).json();
        seen.push(...page.items.map((item: Item) => item.subject));
        next = page.next;
      } while (next);
      expect(seen).toEqual(['h-1', 'w-7', 'w-6', 'w-5', 'w-4', 'w-2', 'w-1']);
      // A service reads its own system's due rows only.
      expect(await due('', 'service')).toEqual(['h-1 accounts.email due', 'h-1 accounts.name due']);
      expect((await call('GET', '/v1/expiries/due?system=orders', undefined, 'service')).statusCode).toBe(
        403,
      );
    },
  );

  it.skipIf(missing)(
    'takes held fields out of what is due, shows who held them and why, and puts them back on release',
    async () => {
      const placed = await call(
        'PUT',
        '/v1/holds/litigation-42',
        {
          reason: 'Smith v. Shop, court order of 2026-11-30',
          subjects: ['h-1'],
          categories: ['user.contact'],
        },
        'dpo',
      );
      expect(placed.statusCode, placed.body).toBe(201);
      expect(placed.json()).toMatchObject({
        name: 'litigation-42',
        createdBy: 'dpo-anna',
        subjects: ['h-1'],
      });

      // Who may see what of it: subject ids only with the grant; a category-limited token not at all.
      expect((await call('GET', '/v1/holds/litigation-42', undefined, 'auditor')).json().subjects).toEqual([
        'h-1',
      ]);
      const pseudonymised = (await call('GET', '/v1/holds', undefined, 'plainAuditor')).json().items[0];
      expect(pseudonymised.subjects).toHaveLength(1);
      expect(pseudonymised.subjects[0]).not.toBe('h-1');
      const limited = await call('GET', '/v1/holds', undefined, 'limitedDpo');
      expect([limited.statusCode, limited.json().error.code]).toEqual([403, 'CATEGORY_NOT_PERMITTED']);

      const items = await feed();
      expect(statusOf(items, 'h-1', 'accounts.email')).toMatchObject({
        status: 'held',
        hold: 'litigation-42',
      });
      expect(statusOf(items, 'h-1', 'orders.address')).toMatchObject({
        status: 'held',
        hold: 'litigation-42',
      });
      expect(statusOf(items, 'h-1', 'accounts.name')).toMatchObject({ status: 'due' });
      expect(statusOf(items, 'h-2', 'accounts.email')).toMatchObject({ status: 'upcoming' });
      expect(await due('system=accounts')).toEqual(['h-1 accounts.name due']);
      expect(await due('', 'service')).toEqual(['h-1 accounts.name due']);
      expect(statusOf(await feed(undefined, 'service'), 'h-1', 'accounts.email')).toMatchObject({
        status: 'held',
      });
      // Deleting the subject would delete the held fields: the subject-level row is held too.
      const subjects = await feed('from=2023-01-01&to=2030-12-31&level=subject');
      expect(subjects.find((item) => item.subject === 'h-1')).toMatchObject({
        status: 'held',
        hold: 'litigation-42',
      });

      const view = (await call('GET', '/v1/subjects/h-1')).json();
      const email = view.fields.find((field: { field: string }) => field.field === 'accounts.email');
      expect(email.hold).toEqual({
        name: 'litigation-42',
        reason: 'Smith v. Shop, court order of 2026-11-30',
        by: 'dpo-anna',
        since: placed.json().createdAt,
      });
      expect(
        view.fields.find((field: { field: string }) => field.field === 'accounts.name').hold,
      ).toBeUndefined();

      // A change keeps when and by whom the hold was first placed.
      const changed = await call('PUT', '/v1/holds/litigation-42', { reason: 'widened', subjects: ['h-1'] });
      expect(changed.statusCode).toBe(200);
      expect(changed.json()).toMatchObject({
        createdBy: 'dpo-anna',
        updatedBy: 'holds-admin',
        reason: 'widened',
      });
      expect(await due('system=accounts')).toEqual([]);

      expect((await call('DELETE', '/v1/holds/litigation-42', undefined, 'dpo')).statusCode).toBe(204);
      expect(await due('system=accounts')).toEqual(['h-1 accounts.email due', 'h-1 accounts.name due']);
      const gone = await call('GET', '/v1/holds/litigation-42');
      expect(gone.statusCode).toBe(404);
      expect(gone.json().error.code).toBe('HOLD_NOT_FOUND');
      expect((await call('DELETE', '/v1/holds/litigation-42')).json().error.code).toBe('HOLD_NOT_FOUND');

      const audit = (await call('GET', '/v1/audit?limit=1000', undefined, 'auditor')).json().items as {
        action: string;
        target: string;
        actor: string;
      }[];
      const holdEntries = audit.filter((entry) => entry.target === 'hold:litigation-42');
      expect(holdEntries.map((entry) => [entry.action, entry.actor])).toEqual([
        ['hold.place', 'dpo:dpo-anna'],
        ['hold.change', 'admin:holds-admin'],
        ['hold.release', 'dpo:dpo-anna'],
      ]);
    },
  );

  it.skipIf(missing)('holds everything when the hold names no scope', async () => {
    expect(
      (await call('PUT', '/v1/holds/regulator-freeze', { reason: 'DPA inquiry 2026-17' })).statusCode,
    ).toBe(201);
    expect(await due('system=orders')).toEqual([]);
    expect((await feed()).every((item) => item.status === 'held')).toBe(true);
    expect((await call('DELETE', '/v1/holds/regulator-freeze')).statusCode).toBe(204);
    expect((await due('system=orders')).length).toBeGreaterThan(0);
  });

  it.skipIf(missing)(
    'refuses holds over names that do not exist, and bad input, with stable codes',
    async () => {
      const put = (body: unknown, as: keyof typeof tokens = 'admin') =>
        call('PUT', '/v1/holds/bad', body, as);
      expect((await put({ reason: 'x', systems: ['nope'] })).json().error.code).toBe('SYSTEM_NOT_FOUND');
      expect((await put({ reason: 'x', policies: ['nope'] })).json().error.code).toBe('POLICY_NOT_FOUND');
      expect((await put({ reason: 'x', categories: ['user.nope'] })).json().error.code).toBe(
        'UNKNOWN_CATEGORY',
      );
      expect((await put({ reason: 'x', reviewAt: 'soon' })).json().error.code).toBe('INVALID_TIME');
      const empty = await put({ reason: '' });
      expect([empty.statusCode, empty.json().error.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect((await put({ reason: 'x', subjects: [] })).statusCode).toBe(400);
      expect((await put({ reason: 'x' }, 'auditor')).statusCode).toBe(403);
      expect((await call('GET', '/v1/holds', undefined, 'service')).statusCode).toBe(403);
      expect((await call('GET', '/v1/holds', undefined, 'auditor')).json().items).toEqual([]);
    },
  );
});
