import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';

/** The HTTP contract through Fastify's inject: authentication, validation and every rejection code. */
let lethe: Lethe;
let token: string;
let dispose: () => Promise<void>;

beforeAll(async () => {
  const location = await SQLITE_BACKEND.create({ migrated: true });
  lethe = await createLethe(location);
  dispose = location.dispose;
  token = (await lethe.tokens.mint({ subject: 'test-admin', role: 'admin', ttlSeconds: 600 })).token;
  for (const [name, body] of Object.entries(POLICIES)) await call('PUT', `/v1/policies/${name}`, body);
  for (const [name, body] of Object.entries(SYSTEMS)) await call('PUT', `/v1/systems/${name}`, body);
});
afterAll(async () => {
  await lethe.close();
  await dispose();
});

function call(
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return lethe.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...headers },
    ...(payload === undefined
      ? {}
      : typeof payload === 'string'
        ? { payload }
        : { payload: payload as object }),
  });
}

async function signedWith(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const key = await lethe.services.keys.current();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'admin', ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey)
    .then((jwt) => ({ jwt, now }));
}

describe('authentication', () => {
  const base = () => ({ iss: 'lethe', aud: 'lethe-api', sub: 'someone' });
  const expectCode = async (jwt: string | undefined, code: string) => {
    const response = await lethe.app.inject({
      method: 'GET',
      url: '/v1/policies',
      headers: jwt === undefined ? {} : { authorization: `Bearer ${jwt}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe(code);
  };

  it('accepts a minted token', async () => {
    expect((await call('GET', '/v1/policies')).statusCode).toBe(200);
  });

  it('refuses a request without a token, or with a malformed header', async () => {
    await expectCode(undefined, 'TOKEN_MISSING');
    const response = await lethe.app.inject({
      method: 'GET',
      url: '/v1/policies',
      headers: { authorization: 'Basic abc' },
    });
    expect(response.json().error.code).toBe('TOKEN_MISSING');
    await expectCode('not-a-jwt', 'TOKEN_INVALID');
  });

  it('refuses a token that lives longer than 12 hours, at verify and at mint', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { jwt } = await signedWith({ ...base(), iat: now, exp: now + 12 * 3600 + 1 });
    await expectCode(jwt, 'TOKEN_LIFETIME_TOO_LONG');
    await expect(
      lethe.tokens.mint({ subject: 'x', role: 'admin', ttlSeconds: 12 * 3600 + 1 }),
    ).rejects.toMatchObject({
      code: 'TOKEN_LIFETIME_TOO_LONG',
    });
  });

  it('refuses expired, not-yet-valid, wrong-audience, wrong-issuer and claim-less tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectCode(
      (await signedWith({ ...base(), iat: now - 7200, exp: now - 3600 })).jwt,
      'TOKEN_EXPIRED',
    );
    await expectCode(
      (await signedWith({ ...base(), iat: now, exp: now + 600, nbf: now + 300 })).jwt,
      'TOKEN_INVALID',
    );
    await expectCode(
      (await signedWith({ ...base(), aud: 'other', iat: now, exp: now + 600 })).jwt,
      'TOKEN_INVALID',
    );
    await expectCode(
      (await signedWith({ ...base(), iss: 'evil', iat: now, exp: now + 600 })).jwt,
      'ISSUER_NOT_TRUSTED',
    );
    await expectCode((await signedWith({ ...base(), iat: now })).jwt, 'TOKEN_INVALID'); // no exp
    await expectCode((await signedWith({ ...base(), exp: now + 600 })).jwt, 'TOKEN_INVALID'); // no iat
    await expectCode(
      (await signedWith({ ...base(), role: 'root', iat: now, exp: now + 600 })).jwt,
      'TOKEN_INVALID',
    );
  });

  it('refuses alg none, tampered tokens and keys it does not know', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const body = Buffer.from(JSON.stringify({ ...base(), role: 'admin', iat: now, exp: now + 600 })).toString(
      'base64url',
    );
    await expectCode(`${header}.${body}.`, 'TOKEN_INVALID');

    const [h, p, s] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(p!, 'base64url').toString()),
        role: 'admin',
        sub: 'mallory',
      }),
    ).toString('base64url');
    await expectCode(`${h}.${forged}.${s}`, 'TOKEN_INVALID');

    const stranger = await generateKeyPair('EdDSA');
    const foreign = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'unknown', typ: 'JWT' })
      .setIssuer('lethe')
      .setAudience('lethe-api')
      .setSubject('x')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(stranger.privateKey);
    await expectCode(foreign, 'TOKEN_INVALID');
  });

  it('leaves health and the OpenAPI document open', async () => {
    expect((await lethe.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await lethe.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({
      status: 'ready',
      usageJournal: { backlogEvents: 0, lagSeconds: 0 },
    });
    const openapi = (await lethe.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/events', '/v1/expiries', '/v1/policies/{name}']),
    );
  });
});

describe('signing keys', () => {
  it('verifies concurrent first requests while it loads a key it has not seen', async () => {
    const location = await SQLITE_BACKEND.create({ migrated: true });
    const fresh = await createLethe(location);
    try {
      // Minted through another process's view of the store: the server has not seen the key.
      const other = await createLethe(location);
      const { token: minted } = await other.tokens.mint({ subject: 'x', role: 'admin', ttlSeconds: 60 });
      await other.close();
      const statuses = await Promise.all(
        Array.from({ length: 5 }, () =>
          fresh.app.inject({
            method: 'GET',
            url: '/v1/policies',
            headers: { authorization: `Bearer ${minted}` },
          }),
        ),
      );
      expect(statuses.map((response) => response.statusCode)).toEqual([200, 200, 200, 200, 200]);
    } finally {
      await fresh.close();
      await location.dispose();
    }
  });
});

describe('roles', () => {
  it('limits a service token to its own system', async () => {
    const service = (
      await lethe.tokens.mint({ subject: 'orders-svc', role: 'service', system: 'orders', ttlSeconds: 600 })
    ).token;
    const headers = { authorization: `Bearer ${service}` };
    const events = [
      usage('r-1', 'order-delivery', ['orders.address'], '2023-01-01T00:00:00Z', 'orders'),
      usage('r-1', 'user-account-access', ['accounts.email'], '2023-01-01T00:00:00Z', 'accounts'),
    ];
    const ingest = await lethe.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers,
      payload: { events },
    });
    expect(ingest.json()).toMatchObject({
      accepted: 1,
      rejected: [{ index: 1, code: 'SYSTEM_NOT_PERMITTED' }],
    });
    const policy = await lethe.app.inject({
      method: 'PUT',
      url: '/v1/policies/x',
      headers,
      payload: POLICIES['order-delivery'],
    });
    expect(policy.statusCode).toBe(403);
    expect(policy.json().error.code).toBe('FORBIDDEN');
    const feed = await lethe.app.inject({
      method: 'GET',
      url: '/v1/expiries?from=2023-01-01&to=2025-12-31',
      headers,
    });
    expect(feed.json().items.map((i: { field: string }) => i.field)).toEqual(['orders.address']);
  });
});

describe('policies', () => {
  it('creates (201), replaces (200) with versions, and rejects bad input with stable codes', async () => {
    const created = await call('PUT', '/v1/policies/fraud', {
      purpose: 'security.fraud',
      retention: 'P1Y',
      legalBasis: 'legitimate_interests',
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'fraud', version: 1, status: 'active' });
    const replaced = await call('PUT', '/v1/policies/fraud', {
      purpose: 'security.fraud',
      retention: 'P18M',
      legalBasis: 'legitimate_interests',
      reason: 'fraud cases take longer',
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json().version).toBe(2);

    const bad = async (body: unknown, code: string, url = '/v1/policies/fraud') => {
      const response = await call('PUT', url, body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe(code);
    };
    await bad({ purpose: 'security.fraud', retention: 'P1X', legalBasis: 'contract' }, 'INVALID_DURATION');
    await bad({ purpose: 'security.fraud', retention: '1 year', legalBasis: 'contract' }, 'INVALID_DURATION');
    await bad({ purpose: 'security.fraud', retention: 'P1Y', legalBasis: 'because' }, 'UNKNOWN_LEGAL_BASIS');
    await bad({ purpose: 'Security Fraud!', retention: 'P1Y', legalBasis: 'contract' }, 'INVALID_PURPOSE');
    await bad(
      { purpose: 'security.fraud', retention: 'P1Y', legalBasis: 'contract', colour: 'red' },
      'VALIDATION_FAILED',
    );
    await bad({ purpose: 'security.fraud' }, 'VALIDATION_FAILED');
    await bad(
      { purpose: 'a', retention: 'P1Y', legalBasis: 'contract' },
      'VALIDATION_FAILED',
      '/v1/policies/bad%20name',
    );
    const notJson = await call('PUT', '/v1/policies/fraud', '{"purpose":', {
      'content-type': 'application/json',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('INVALID_JSON');
    const missing = await call('GET', '/v1/policies/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({
      code: 'POLICY_NOT_FOUND',
      requestId: missing.headers['x-request-id'],
    });
    expect((await call('POST', '/v1/policies/fraud/preview', { retention: 'PX' })).json().error.code).toBe(
      'INVALID_DURATION',
    );
    expect((await call('GET', '/v1/nothing-here')).json().error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('refuses a purpose outside the purpose taxonomy, naming the nearest keys', async () => {
    await call('PUT', '/v1/policies/mail', {
      purpose: 'marketing.email',
      retention: 'P6M',
      legalBasis: 'consent',
    });
    const typo = await call('PUT', '/v1/policies/mail', {
      purpose: 'markting.email',
      retention: 'P6M',
      legalBasis: 'consent',
    });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().error.code).toBe('PURPOSE_UNKNOWN');
    expect(typo.json().error.details.nearest[0]).toBe('marketing.email');
    expect((await call('GET', '/v1/policies/mail')).json().purpose).toBe('marketing.email');
    const bogus = await call('PUT', '/v1/policies/bogus', {
      purpose: 'bogus',
      retention: 'P1Y',
      legalBasis: 'contract',
    });
    expect(bogus.json().error.code).toBe('PURPOSE_UNKNOWN');
    expect((await call('GET', '/v1/policies/bogus')).statusCode).toBe(404);

    // A purpose added to the taxonomy can be used; it cannot be removed while a policy uses it.
    const extension = { purposes: [{ key: 'marketing.email.digest', description: 'The weekly digest.' }] };
    expect((await call('PUT', '/v1/taxonomy', extension)).statusCode).toBeLessThan(300);
    const digest = await call('PUT', '/v1/policies/digest', {
      purpose: 'marketing.email.digest',
      retention: 'P6M',
      legalBasis: 'consent',
    });
    expect(digest.statusCode).toBe(201);
    const removal = await call('PUT', '/v1/taxonomy', { purposes: [] });
    expect(removal.statusCode).toBe(400);
    expect(removal.json().error).toMatchObject({
      code: 'PURPOSE_UNKNOWN',
      details: { purpose: 'marketing.email.digest' },
    });
    expect((await call('GET', '/v1/taxonomy')).json().purposes.map((p: { key: string }) => p.key)).toContain(
      'marketing.email.digest',
    );
  });
});

describe('telemetry ingest', () => {
  it('rejects each bad event on its own with its index and code, and accepts the rest', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const events = [
      usage('i-1', 'order-delivery', ['orders.address'], '2023-01-01T00:00:00Z'),
      { ...usage('i-1', 'nope', ['orders.address'], '2023-01-01T00:00:00Z'), system: 'orders' },
      { ...usage('i-1', 'order-delivery', ['orders.address'], '2023-01-01T00:00:00Z'), system: 'ghost' },
      usage('i-1', 'order-delivery', ['orders.colour'], '2023-01-01T00:00:00Z'),
      usage('i-1', 'order-delivery', ['orders.address'], 'yesterday'),
      usage('i-1', 'order-delivery', ['orders.address'], future),
      usage('i-1', 'order-delivery', ['orders.address'], '2023-01-01T00:00:00'), // no zone
      { ...usage('', 'order-delivery', ['orders.address'], '2023-01-01T00:00:00Z') },
      { system: 'orders', policy: 'order-delivery', fields: ['orders.address'], at: '2023-01-01T00:00:00Z' },
      { ...usage('i-1', 'order-delivery', [], '2023-01-01T00:00:00Z') },
      { ...usage('i-1', 'order-delivery', ['orders.address'], '2023-01-01T00:00:00Z'), extra: true },
      'not an object',
    ];
    const response = await call('POST', '/v1/events', { events });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [1, 'POLICY_NOT_FOUND'],
      [2, 'SYSTEM_NOT_FOUND'],
      [3, 'FIELD_NOT_DECLARED'],
      [4, 'INVALID_TIME'],
      [5, 'INVALID_TIME'],
      [6, 'INVALID_TIME'],
      [7, 'SUBJECT_MISSING'],
      [8, 'SUBJECT_MISSING'],
      [9, 'INVALID_EVENT'],
      [10, 'INVALID_EVENT'],
      [11, 'INVALID_EVENT'],
    ]);
    expect(body.rejected[2].message).toContain('orders.colour');
  });

  it('counts accepted and rejected events in /metrics, labelled by route, never by subject', async () => {
    const text = (await lethe.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('# TYPE lethe_events_accepted_total counter');
    expect(text).toMatch(/^lethe_events_rejected_total\{code="POLICY_NOT_FOUND"\} 1$/m);
    expect(text).toMatch(/^lethe_events_rejected_total\{code="INVALID_TIME"\} 3$/m);
    expect(text).toMatch(
      /lethe_http_request_duration_seconds_count\{method="POST",route="\/v1\/events",status="200"\} \d+/,
    );
    expect(text).toContain('route="/v1/policies/:name",status="201"');
    expect(text).not.toContain('i-1');
  });

  it('takes NDJSON, rejecting a malformed line alone', async () => {
    const lines = [
      JSON.stringify(usage('n-1', 'order-delivery', ['orders.address'], '2023-01-01T00:00:00Z')),
      '{"subject": "n-1", oops',
      '',
      JSON.stringify(usage('n-2', 'order-delivery', ['orders.address'], '2023-01-02T00:00:00Z')),
    ].join('\n');
    const response = await call('POST', '/v1/events', lines, { 'content-type': 'application/x-ndjson' });
    expect(response.json()).toMatchObject({
      accepted: 2,
      duplicates: 0,
      rejected: [{ index: 1, code: 'INVALID_JSON' }],
    });
  });

  it('answers 413 for a body or a batch that is too large, and 415 for other content types', async () => {
    const big = 'x'.repeat(17 * 1024 * 1024);
    const tooBig = await call('POST', '/v1/events', JSON.stringify({ events: [big] }), {
      'content-type': 'application/json',
    });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const many = Array.from({ length: 10_001 }, () => ({}));
    const tooMany = await call('POST', '/v1/events', { events: many });
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json().error.code).toBe('BATCH_TOO_LARGE');
    const xml = await call('POST', '/v1/events', '<events/>', { 'content-type': 'application/xml' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('retention routes', () => {
  it('explains a subject, 404s an unknown one, and checks feed parameters', async () => {
    await call('POST', '/v1/events', {
      events: [usage('e-1', 'user-account-access', ['accounts.email'], '2023-01-05T10:00:00Z')],
    });
    const subject = await call('GET', '/v1/subjects/e-1');
    expect(subject.json()).toMatchObject({ subject: 'e-1', expiresAt: '2025-01-05T10:00:00.000Z' });
    expect((await call('GET', '/v1/subjects/nobody')).json().error.code).toBe('SUBJECT_NOT_FOUND');

    const feed = async (query: string) => (await call('GET', `/v1/expiries?${query}`)).json();
    expect((await feed('day=2025-01-05')).items).toEqual([
      expect.objectContaining({ subject: 'e-1', field: 'accounts.email', policy: 'user-account-access' }),
    ]);
    expect((await feed('day=2025-02-30')).error.code).toBe('INVALID_DAY');
    expect((await feed('day=tomorrow')).error.code).toBe('VALIDATION_FAILED');
    expect((await feed('from=2025-02-01&to=2025-01-01')).error.code).toBe('INVALID_RANGE');
    expect((await feed('')).error.code).toBe('INVALID_RANGE');
    expect((await feed('day=2025-01-05&cursor=garbage')).error.code).toBe('INVALID_CURSOR');
    expect((await feed('day=2025-01-05&level=team')).error.code).toBe('VALIDATION_FAILED');
    expect((await feed('day=2025-01-05&system=ghost')).error.code).toBe('SYSTEM_NOT_FOUND');
    expect((await feed('day=2025-01-05&colour=red')).error.code).toBe('VALIDATION_FAILED');
  });

  it('streams a whole day as NDJSON, in feed order, past the internal chunk size', async () => {
    const events = Array.from({ length: 2_500 }, (_, i) =>
      usage(`st-${String(i).padStart(5, '0')}`, 'order-delivery', ['orders.address'], '2022-07-01T00:00:00Z'),
    );
    expect((await call('POST', '/v1/events', { events })).json().accepted).toBe(2_500);
    const stream = await call('GET', '/v1/expiries?day=2022-10-29&system=orders', undefined, {
      accept: 'application/x-ndjson',
    });
    expect(stream.headers['content-type']).toContain('application/x-ndjson');
    const lines = stream.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2_500);
    expect(lines[0]).toMatchObject({ subject: 'st-00000', field: 'orders.address' });
    expect(lines.at(-1)).toMatchObject({ subject: 'st-02499' });
    const bad = await call('GET', '/v1/expiries?day=2023-13-01', undefined, {
      accept: 'application/x-ndjson',
    });
    expect(bad.statusCode).toBe(400);
  });

  it('records an erasure and refuses unknown systems and fields', async () => {
    await call('POST', '/v1/events', {
      events: [usage('er-1', 'order-delivery', ['orders.address'], '2023-01-01T00:00:00Z')],
    });
    const ok = await call('POST', '/v1/subjects/er-1/erasures', { system: 'orders' });
    expect(ok.json()).toMatchObject({ subject: 'er-1', fields: ['orders.address'] });
    expect((await call('POST', '/v1/subjects/er-1/erasures', { system: 'ghost' })).json().error.code).toBe(
      'SYSTEM_NOT_FOUND',
    );
    expect(
      (await call('POST', '/v1/subjects/er-1/erasures', { system: 'orders', fields: ['orders.x'] })).json()
        .error.code,
    ).toBe('FIELD_NOT_DECLARED');
    expect(
      (
        await call('POST', '/v1/subjects/er-1/erasures', { system: 'orders', at: '2999-01-01T00:00:00Z' })
      ).json().error.code,
    ).toBe('INVALID_TIME');
  });
});
