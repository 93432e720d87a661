import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRouteTable } from '../src/http/route-action.js';
import { renderPermissionTable } from '../src/auth/permissions.js';
import { ALL, EXPECTED, lethe, openMatrixLethe, send } from './support/access-matrix.js';

/**
 * Who may call what: every registered route called by every role, against the expectations in
 * `support/access-matrix.ts`, and the tables of docs/security.md against the code.
 */

openMatrixLethe();
describe('every route × every role', () => {
  it('has a decision for every registered route, and every /v1 route names a permission', () => {
    const registered = lethe.app.routeTable.map((route) => `${route.method} ${route.url}`);
    expect([...registered].sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const route of lethe.app.routeTable) {
      // Only a route this matrix declares public may go without one (the sign-in link's exchange).
      const isPublic = EXPECTED[`${route.method} ${route.url}`]?.allowed === 'public';
      if (route.url.startsWith('/v1') && !isPublic)
        expect(route.action, `${route.method} ${route.url}`).toBeDefined();
    }
  });

  for (const [route, expectation] of Object.entries(EXPECTED)) {
    const [method, pattern] = route.split(' ') as [string, string];
    const urlOf = () =>
      typeof expectation.url === 'function' ? expectation.url() : (expectation.url ?? pattern);

    it(`${route}`, async () => {
      if (expectation.allowed === 'public') {
        await expectation.prepare?.();
        const response = await send(undefined, method, urlOf(), expectation.payload);
        expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
        return;
      }
      const anonymous = await send(undefined, method, urlOf(), expectation.payload, expectation.contentType);
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error.code).toBe('TOKEN_MISSING');
      for (const caller of ALL) {
        await expectation.prepare?.();
        const response = await send(caller, method, urlOf(), expectation.payload, expectation.contentType);
        const label = `${caller} ${route}: ${response.body.slice(0, 200)}`;
        if (expectation.allowed.includes(caller) && expectation.allowedStatus !== undefined) {
          expect(response.statusCode, label).toBe(expectation.allowedStatus);
        } else if (expectation.allowed.includes(caller)) {
          expect(response.statusCode, label).toBeGreaterThanOrEqual(200);
          expect(response.statusCode, label).toBeLessThan(300);
        } else {
          expect(response.statusCode, label).toBe(403);
          expect(response.json().error.code, label).toBe(expectation.refusals?.[caller] ?? 'FORBIDDEN');
        }
      }
    });
  }
});

describe('the tables in docs/security.md', () => {
  it('are the ones in the code', () => {
    const normalise = (text: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith('|'))
        .map((line) =>
          line
            .split('|')
            .map((cell) => cell.trim().replace(/^-+$/, '---'))
            .join('|'),
        );
    const docLines = normalise(readFileSync(new URL('../../../docs/security.md', import.meta.url), 'utf8'));
    for (const rendered of [renderPermissionTable(), renderRouteTable(lethe.app.routeTable)]) {
      const table = normalise(rendered);
      const start = docLines.indexOf(table[0] ?? '');
      expect(start, `docs/security.md holds the table starting ${table[0]}`).toBeGreaterThanOrEqual(0);
      expect(docLines.slice(start, start + table.length)).toEqual(table);
    }
  });
});
