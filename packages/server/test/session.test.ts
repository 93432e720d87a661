import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../src/auth/permissions.js';
import type { MintRequest } from '../src/auth/tokens.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';

/** GET /v1/session: the caller as the server sees its token, and what its role may do. */

let lethe: Lethe;
let dispose: () => Promise<void>;

beforeAll(async () => {
  const location = await SQLITE_BACKEND.create({ migrated: true });
  lethe = await createLethe(location);
  dispose = async () => {
    await lethe.close();
    await location.dispose();
  };
});
afterAll(() => dispose());

async function session(request?: Omit<MintRequest, 'ttlSeconds'>) {
  const token = request ? (await lethe.tokens.mint({ ...request, ttlSeconds: 600 })).token : undefined;
  return lethe.app.inject({
    method: 'GET',
    url: '/v1/session',
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

describe('GET /v1/session', () => {
  it('names the caller and lists exactly the permissions its role holds', async () => {
    const response = await session({ subject: 'dana', role: 'dpo' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ subject: 'dana', role: 'dpo', issuer: 'lethe' });
    const expected = Object.entries(PERMISSIONS)
      .filter(([, roles]) => (roles as readonly string[]).includes('dpo'))
      .map(([action]) => action);
    expect(body.actions).toEqual(expected);
    expect(body.actions).toContain('policies:write');
    // The DPO reads and verifies the audit log (docs/security.md); signing checkpoints stays an admin's.
    expect(body.actions).toContain('audit:read');
    expect(body.actions).not.toContain('audit:checkpoint');
  });

  it('carries a service’s system, a token’s categories and grants', async () => {
    const service = (await session({ subject: 'svc', role: 'service', system: 'orders' })).json();
    expect(service).toMatchObject({ role: 'service', system: 'orders' });
    expect(service.actions).toEqual(expect.arrayContaining(['events:publish', 'expiries:read']));
    expect(service.actions).not.toContain('subjects:read');
    const limited = (
      await session({ subject: 'a', role: 'auditor', categories: ['user.contact'], grants: ['subject-ids'] })
    ).json();
    expect(limited).toMatchObject({ categories: ['user.contact'], grants: ['subject-ids'] });
  });

  it('is a 401 without a token', async () => {
    const response = await session();
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('TOKEN_MISSING');
  });
});
