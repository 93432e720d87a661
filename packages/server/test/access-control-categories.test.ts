import { beforeAll, describe, expect, it } from 'vitest';
import { ALL, EXPECTED, lethe, openMatrixLethe, send, type Caller } from './support/access-matrix.js';
import { CALLERS } from './support/access-matrix-roles.js';

/**
 * A token limited to data categories, route by route: what answers for every category (marked
 * `unlimitedOnly` in support/access-matrix.ts, by hand) refuses it, and `GET /v1/session` lists
 * exactly the actions it can still use, so the dashboard offers no page that would refuse it.
 */

openMatrixLethe();
const CATEGORIES = ['user.contact.email'];
const limitedTokens = {} as Record<Caller, string>;

beforeAll(async () => {
  for (const caller of ALL) {
    const request = { ...CALLERS[caller], subject: `${CALLERS[caller].subject}-limited` };
    limitedTokens[caller] = (
      await lethe.tokens.mint({ ...request, categories: CATEGORIES, ttlSeconds: 600 })
    ).token;
  }
});

function asLimited(caller: Caller, method: string, url: string, payload?: unknown, contentType?: string) {
  const body = typeof payload === 'function' ? (payload as () => unknown)() : payload;
  return lethe.app.inject({
    method: method as 'GET',
    url,
    headers: {
      authorization: `Bearer ${limitedTokens[caller]}`,
      ...(contentType ? { 'content-type': contentType } : {}),
    },
    ...(body === undefined ? {} : { payload: body as object }),
  });
}

/** The actions whose every route the matrix marks as answering for every category. */
function unlimitedOnlyActions(): Set<string> {
  const routesOf = new Map<string, boolean[]>();
  for (const route of lethe.app.routeTable) {
    if (!route.action) continue;
    const marks = routesOf.get(route.action) ?? [];
    marks.push(EXPECTED[`${route.method} ${route.url}`]?.unlimitedOnly === true);
    routesOf.set(route.action, marks);
  }
  return new Set([...routesOf].filter(([, marks]) => marks.every(Boolean)).map(([action]) => action));
}

describe('a category-limited token', () => {
  it('is refused every route marked as answering for every category, and no other', async () => {
    const answered = new Set<string>();
    for (const route of lethe.app.routeTable) {
      if (!route.action) continue;
      const expectation = EXPECTED[`${route.method} ${route.url}`];
      if (!expectation) throw new Error(`no expectation for ${route.method} ${route.url}`);
      await expectation.prepare?.();
      const url = typeof expectation.url === 'function' ? expectation.url() : (expectation.url ?? route.url);
      const response = await asLimited(
        'admin',
        route.method,
        url,
        expectation.payload,
        expectation.contentType,
      );
      const label = `${route.method} ${route.url}: ${response.body.slice(0, 200)}`;
      const refused = response.statusCode === 403 && response.json().error.code === 'CATEGORY_NOT_PERMITTED';
      expect(refused, label).toBe(expectation.unlimitedOnly === true);
      if (!refused) answered.add(route.action);
    }
    // Every action is refused on all its routes, or answered on one at least.
    const actions = new Set(lethe.app.routeTable.flatMap((route) => (route.action ? [route.action] : [])));
    const refusedEverywhere = unlimitedOnlyActions();
    expect([...answered].sort()).toEqual(
      [...actions].filter((action) => !refusedEverywhere.has(action)).sort(),
    );
  });

  it('is listed by GET /v1/session exactly the actions some route of which it may use', async () => {
    const refusedEverywhere = unlimitedOnlyActions();
    expect([...refusedEverywhere].sort()).toEqual([
      'connectors:read',
      'connectors:write',
      'holds:read',
      'holds:write',
      'manifest:export',
      'reports:read',
      'requests:create',
      'requests:manage',
      'requests:package',
      'requests:read',
    ]);
    for (const caller of ALL) {
      const full = (await send(caller, 'GET', '/v1/session')).json<{ actions: string[] }>();
      const limited = await asLimited(caller, 'GET', '/v1/session');
      expect(limited.statusCode).toBe(200);
      const view = limited.json<{ actions: string[]; categories: string[] }>();
      expect(view.categories).toEqual(CATEGORIES);
      expect(view.actions, caller).toEqual(full.actions.filter((action) => !refusedEverywhere.has(action)));
    }
  });
});

describe('the hold service itself', () => {
  it('refuses a category-limited principal a release, whatever the HTTP layer did', async () => {
    await send('admin', 'PUT', '/v1/holds/matrix-kept', { reason: 'kept' });
    const limited = { id: 'limited-admin', role: 'admin' as const, categories: CATEGORIES };
    await expect(lethe.services.holds.release(limited, 'matrix-kept')).rejects.toMatchObject({
      code: 'CATEGORY_NOT_PERMITTED',
    });
    expect((await send('admin', 'GET', '/v1/holds/matrix-kept')).statusCode).toBe(200);
  });
});
