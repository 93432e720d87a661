import { ConfigError } from '../src/config/config-error.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loggerOptions, redactUrl, scrubSecrets } from '../src/http/logging.js';
import { RateLimiter, rateLimitFromEnv } from '../src/http/rate-limit.js';
import {
  API_CONTENT_SECURITY_POLICY,
  DASHBOARD_CONTENT_SECURITY_POLICY,
  PATH_HEADER_RULES,
  securityHeadersFor,
} from '../src/http/security-headers.js';
import { serveCommand } from '../src/cli/serve-command.js';
import { createLethe, type Lethe, type LetheOptions } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';

/** HTTP hardening: per-principal rate limits, security headers on every answer, log hygiene. */

async function open(options: Omit<LetheOptions, 'dataDir' | 'databaseUrl'> = {}) {
  const location = await SQLITE_BACKEND.create({ migrated: true });
  const lethe = await createLethe({ ...location, ...options });
  return {
    lethe,
    async dispose() {
      try {
        await lethe.close();
      } finally {
        await location.dispose();
      }
    },
  };
}

async function mint(lethe: Lethe, subject: string, role: 'admin' | 'dpo' = 'admin') {
  return (await lethe.tokens.mint({ subject, role, ttlSeconds: 600 })).token;
}

function get(lethe: Lethe, url: string, token?: string) {
  return lethe.app.inject({
    method: 'GET',
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

describe('rate limiting per principal', () => {
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  let now = 0;
  let alice: string;

  beforeAll(async () => {
    ({ lethe, dispose } = await open({ rateLimit: { requestsPerSecond: 5, burst: 10, clock: () => now } }));
    alice = await mint(lethe, 'alice');
  });
  afterAll(() => dispose());

  it('spends the burst, then answers 429 RATE_LIMITED with Retry-After', async () => {
    for (let i = 0; i < 10; i++) {
      const response = await get(lethe, '/v1/policies', alice);
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe('10');
      expect(response.headers['ratelimit-remaining']).toBe(String(9 - i));
    }
    const refused = await get(lethe, '/v1/policies', alice);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    expect(refused.json()).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: expect.any(String),
        requestId: refused.headers['x-request-id'],
        details: { retryAfterSeconds: 1 },
      },
    });
    // The refusal is an API answer like any other.
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(refused.headers['x-content-type-options']).toBe('nosniff');
  });

  it('keeps another principal, or the same subject under another role, unaffected', async () => {
    expect((await get(lethe, '/v1/policies', alice)).statusCode).toBe(429);
    const bob = await get(lethe, '/v1/policies', await mint(lethe, 'bob'));
    expect(bob.statusCode).toBe(200);
    expect(bob.headers['ratelimit-remaining']).toBe('9');
    expect((await get(lethe, '/v1/policies', await mint(lethe, 'alice', 'dpo'))).statusCode).toBe(200);
  });

  it('refills the bucket as time passes, at the configured rate', async () => {
    now += 1000; // 5 requests' worth
    for (let i = 0; i < 5; i++) expect((await get(lethe, '/v1/policies', alice)).statusCode).toBe(200);
    expect((await get(lethe, '/v1/policies', alice)).statusCode).toBe(429);
    now += 200; // one more
    expect((await get(lethe, '/v1/policies', alice)).statusCode).toBe(200);
    expect((await get(lethe, '/v1/policies', alice)).statusCode).toBe(429);
    now += 60_000; // never more than the burst
    const refilled = await get(lethe, '/v1/policies', alice);
    expect(refilled.headers['ratelimit-remaining']).toBe('9');
  });

  it('leaves operational endpoints and unauthenticated refusals out of the buckets', async () => {
    for (let i = 0; i < 20; i++) expect((await get(lethe, '/healthz')).statusCode).toBe(200);
    const anonymous = await get(lethe, '/v1/policies');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['ratelimit-limit']).toBeUndefined();
  });

  it('is on by default (50/s, burst 200) and can be turned off', async () => {
    const defaults = await open();
    try {
      const response = await get(defaults.lethe, '/v1/policies', await mint(defaults.lethe, 'x'));
      expect(response.headers['ratelimit-limit']).toBe('200');
      expect(response.headers['ratelimit-remaining']).toBe('199');
    } finally {
      await defaults.dispose();
    }
    const off = await open({ rateLimit: false });
    try {
      const response = await get(off.lethe, '/v1/policies', await mint(off.lethe, 'x'));
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBeUndefined();
    } finally {
      await off.dispose();
    }
  });
});

describe('rate limiting the telemetry routes by events', () => {
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  let now = 0;
  let publisher: string;
  // 5 requests/s would cap a publisher at 5 batches; the events bucket lets 1,000 events/s through.
  const limits = {
    requestsPerSecond: 5,
    burst: 5,
    eventsPerSecond: 1000,
    eventBurst: 2000,
    clock: () => now,
  };

  beforeAll(async () => {
    ({ lethe, dispose } = await open({ rateLimit: limits }));
    publisher = await mint(lethe, 'publisher');
  });
  afterAll(() => dispose());

  // Unknown policies are refused one by one (a 200 with rejections): the events still count.
  const publish = (events: number) =>
    lethe.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${publisher}` },
      payload: {
        events: Array.from({ length: events }, (_, i) =>
          usage(`s-${i}`, 'no-such', ['a.b'], '2024-01-01T00:00:00Z'),
        ),
      },
    });

  it('counts events, not requests, and refuses the batch that would exceed them', async () => {
    for (let i = 0; i < 20; i++) {
      const response = await publish(100); // 20 requests: four times the request burst
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe('2000');
      expect(response.headers['ratelimit-remaining']).toBe(String(2000 - 100 * (i + 1)));
    }
    const refused = await publish(1);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('RATE_LIMITED');
    expect(refused.headers['retry-after']).toBe('1');
    // Other routes keep the request bucket, untouched by the 20 batches.
    const other = await get(lethe, '/v1/policies', publisher);
    expect(other.statusCode).toBe(200);
    expect(other.headers['ratelimit-remaining']).toBe('4');
  });

  it('refills at the event rate, and lets a batch larger than the burst through once, in debt', async () => {
    now += 500; // 500 events' worth
    expect((await publish(500)).statusCode).toBe(200);
    expect((await publish(1)).statusCode).toBe(429);
    now += 2000; // full again
    expect((await publish(3000)).statusCode).toBe(200);
    now += 2000; // repays the debt of 1,000, not yet full
    const waiting = await publish(1500);
    expect(waiting.statusCode).toBe(429);
    expect(waiting.headers['retry-after']).toBe('1');
    now += 500;
    expect((await publish(1500)).statusCode).toBe(200);
  });
});

describe('RateLimiter memory', () => {
  it('drops buckets that have refilled completely, and caps the number held', () => {
    let now = 0;
    const limiter = new RateLimiter({ requestsPerSecond: 1, burst: 2, maxPrincipals: 3, clock: () => now });
    for (const key of ['a', 'b', 'c', 'd']) expect(limiter.take(key).allowed).toBe(true);
    expect(limiter.size).toBe(3); // 'a' went first
    limiter.take('b');
    limiter.take('b');
    expect(limiter.take('b').allowed).toBe(false);
    now += 2000; // two seconds refill a burst of two: every bucket is as good as new
    expect(limiter.take('e').allowed).toBe(true);
    expect(limiter.size).toBe(1);
    expect(limiter.take('b').remaining).toBe(1); // a fresh bucket, as it would have been
  });

  it('refuses settings that make no sense', () => {
    expect(() => new RateLimiter({ requestsPerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ requestsPerSecond: 1, burst: 0.5 })).toThrow(RangeError);
  });
});

describe('rate limit configuration from the environment', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("reads LETHE_RATE_LIMIT and LETHE_RATE_BURST, and the telemetry routes' event limit", () => {
    const events = { eventsPerSecond: 200_000, eventBurst: 400_000 };
    expect(rateLimitFromEnv({})).toEqual({ requestsPerSecond: 50, burst: 200, ...events });
    expect(rateLimitFromEnv({ LETHE_RATE_LIMIT: '50/s' })).toEqual({
      requestsPerSecond: 50,
      burst: 200,
      ...events,
    });
    expect(rateLimitFromEnv({ LETHE_RATE_LIMIT: '120', LETHE_RATE_BURST: '500' })).toEqual({
      requestsPerSecond: 120,
      burst: 500,
      ...events,
    });
    expect(rateLimitFromEnv({ LETHE_RATE_LIMIT: '3000/min' })).toMatchObject({ requestsPerSecond: 50 });
    expect(
      rateLimitFromEnv({ LETHE_EVENT_RATE_LIMIT: '1000000/s', LETHE_EVENT_RATE_BURST: '50000' }),
    ).toEqual({
      requestsPerSecond: 50,
      burst: 200,
      eventsPerSecond: 1_000_000,
      eventBurst: 50_000,
    });
    expect(rateLimitFromEnv({ LETHE_RATE_LIMIT: 'off' })).toBe(false);
  });

  it('names the variable of a bad value', () => {
    expect(() => rateLimitFromEnv({ LETHE_RATE_LIMIT: 'fast' })).toThrow(/LETHE_RATE_LIMIT/);
    expect(() => rateLimitFromEnv({ LETHE_RATE_LIMIT: '0/s' })).toThrow(/LETHE_RATE_LIMIT/);
    expect(() => rateLimitFromEnv({ LETHE_RATE_BURST: '1.5' })).toThrow(/LETHE_RATE_BURST/);
    expect(() => rateLimitFromEnv({ LETHE_RATE_BURST: '0' })).toThrow(/LETHE_RATE_BURST/);
    expect(() => rateLimitFromEnv({ LETHE_EVENT_RATE_LIMIT: 'many' })).toThrow(/LETHE_EVENT_RATE_LIMIT/);
    expect(() => rateLimitFromEnv({ LETHE_EVENT_RATE_BURST: '-1' })).toThrow(/LETHE_EVENT_RATE_BURST/);
  });

  it('makes lethe serve refuse a bad value as a configuration error, before opening anything', async () => {
    vi.stubEnv('LETHE_RATE_LIMIT', 'lots');
    // Checked with every setting at start (docs/configuration.md): exit 2, naming the variable.
    await expect(serveCommand({ dataDir: '/nonexistent/never-created' })).rejects.toThrow(ConfigError);
    await expect(serveCommand({ dataDir: '/nonexistent/never-created' })).rejects.toThrow(/LETHE_RATE_LIMIT/);
    vi.stubEnv('LETHE_RATE_LIMIT', '10/s');
    vi.stubEnv('LETHE_RATE_BURST', 'many');
    await expect(serveCommand({ dataDir: '/nonexistent/never-created' })).rejects.toThrow(/LETHE_RATE_BURST/);
  });
});

describe('security headers', () => {
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  let token: string;

  beforeAll(async () => {
    ({ lethe, dispose } = await open());
    token = await mint(lethe, 'headers');
  });
  afterAll(() => dispose());

  const common = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    // Helmet writes the directives without a space after `;` (the CSP grammar allows both).
    'content-security-policy': "default-src 'none';frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'strict-transport-security': 'max-age=31536000',
  };

  it('are on a /v1 answer, with no-store', async () => {
    const response = await get(lethe, '/v1/policies', token);
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ ...common, 'cache-control': 'no-store' });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // Helmet's other defaults stay off: the answer carries exactly the headers Lethe chose.
    for (const header of ['cross-origin-opener-policy', 'origin-agent-cluster', 'x-xss-protection']) {
      expect(response.headers[header], header).toBeUndefined();
    }
  });

  it('are on a 401 and a 404 under /v1, with no-store', async () => {
    const unauthenticated = await get(lethe, '/v1/policies');
    expect(unauthenticated.statusCode).toBe(401);
    expect(unauthenticated.headers).toMatchObject({ ...common, 'cache-control': 'no-store' });
    const missing = await get(lethe, '/v1/no-such-thing', token);
    expect(missing.statusCode).toBe(404);
    expect(missing.headers).toMatchObject({ ...common, 'cache-control': 'no-store' });
  });

  it('are on a 404 outside /v1 and on /healthz', async () => {
    const missing = await get(lethe, '/no-such-thing');
    expect(missing.statusCode).toBe(404);
    // Paths outside the API's own belong to the dashboard and carry its (also strict) policy.
    expect(missing.headers).toMatchObject({
      ...common,
      'content-security-policy': DASHBOARD_CONTENT_SECURITY_POLICY,
    });
    const health = await get(lethe, '/healthz');
    expect(health.statusCode).toBe(200);
    expect(health.headers).toMatchObject(common);
    expect(health.headers['x-request-id']).toBeDefined();
  });

  it('choose the policy by the longest path prefix: the dashboard owns /, the API its own paths', () => {
    const rules = PATH_HEADER_RULES;
    expect(securityHeadersFor('/', rules)['content-security-policy']).toBe(DASHBOARD_CONTENT_SECURITY_POLICY);
    expect(securityHeadersFor('/policies/x', rules)['content-security-policy']).toBe(
      DASHBOARD_CONTENT_SECURITY_POLICY,
    );
    expect(securityHeadersFor('/healthz', rules)['content-security-policy']).toBe(
      API_CONTENT_SECURITY_POLICY,
    );
    expect(securityHeadersFor('/v1/policies?x=1', rules)).toMatchObject({
      'content-security-policy': API_CONTENT_SECURITY_POLICY,
      'cache-control': 'no-store',
    });
    expect(securityHeadersFor('/v10/x')['cache-control']).toBeUndefined();
    expect(securityHeadersFor('//v1//subjects/x')['cache-control']).toBe('no-store');
  });
});

describe('log hygiene', () => {
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  let token: string;
  const lines: string[] = [];

  beforeAll(async () => {
    ({ lethe, dispose } = await open({
      logger: loggerOptions({ level: 'info', stream: { write: (line) => void lines.push(line) } }),
    }));
    token = await mint(lethe, 'logged');
  });
  afterAll(() => dispose());

  it('puts the request id in every request line and no token anywhere', async () => {
    lines.length = 0; // start-up lines (key rotation) belong to no request
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const tampered = `${header}.${payload}.${signature.slice(0, -4)}AAAA`;
    const secrets = [token, payload, signature, tampered, 'not-a-jwt-but-secret'];

    const responses = [
      await get(lethe, '/v1/policies', token),
      await get(lethe, '/v1/policies', tampered),
      await get(lethe, '/v1/policies', 'not-a-jwt-but-secret'),
      await get(lethe, `/v1/policies?access_token=${token}`),
      await get(lethe, `/v1/policies?limit=5&token=${token}`, token),
      await get(lethe, `/no-such-route?token=${token}`),
    ];
    expect(responses.map((response) => response.statusCode)).toEqual([200, 401, 401, 401, 200, 404]);

    // A natural 500: the store goes away under a running server. The journal's fold stops first:
    // its failures belong to no request, and its idle poll could otherwise log one here.
    await lethe.services.journal.stop();
    await lethe.services.store.close();
    const failed = await get(lethe, '/v1/policies', token);
    expect(failed.statusCode).toBe(500);
    responses.push(failed);

    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.length).toBeGreaterThanOrEqual(responses.length * 2);
    for (const line of logged) expect(line['reqId'], JSON.stringify(line)).toEqual(expect.any(String));
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);

    // Every error body names its request, and that id is in the log.
    const ids = new Set(logged.map((line) => line['reqId']));
    for (const response of responses.filter((answer) => answer.statusCode >= 400)) {
      const requestId = response.json().error.requestId as string;
      expect(requestId).toBe(response.headers['x-request-id']);
      expect(ids).toContain(requestId);
    }
    const failure = logged.find((line) => line['msg'] === 'request failed');
    expect(failure?.['reqId']).toBe(failed.headers['x-request-id']);
    expect(failure?.['err']).toBeDefined();
    // The URL is logged, without the token.
    const urls = logged.map((line) => (line['req'] as { url?: string } | undefined)?.url).filter(Boolean);
    expect(urls).toContain('/v1/policies?access_token=[REDACTED]');
    expect(urls).toContain('/v1/policies?limit=5&token=[REDACTED]');
  });

  it('scrubs a token that an error message or stack would carry', () => {
    lines.length = 0;
    lethe.app.log.error({ err: new Error(`upstream refused "Authorization: Bearer ${token}"`) }, 'failed');
    lethe.app.log.error({ err: new Error('refused Bearer opaque-secret-value') }, 'failed');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(token.split('.')[2]);
      expect(line).not.toContain('opaque-secret-value');
      expect(line).toContain('[REDACTED]');
    }
  });

  it("writes the telemetry routes' request lines at debug, and their failures at error", async () => {
    const quiet = await open({
      rateLimit: false,
      logger: loggerOptions({ level: 'info', stream: { write: (line) => void lines.push(line) } }),
    });
    try {
      const admin = await mint(quiet.lethe, 'publisher');
      const publish = (payload: object) =>
        quiet.lethe.app.inject({
          method: 'POST',
          url: '/v1/events',
          headers: { authorization: `Bearer ${admin}` },
          payload,
        });
      const put = (url: string, payload: object) =>
        quiet.lethe.app.inject({
          method: 'PUT',
          url,
          headers: { authorization: `Bearer ${admin}` },
          payload,
        });
      expect(
        (await put('/v1/policies/user-account-access', POLICIES['user-account-access']!)).statusCode,
      ).toBe(201);
      expect((await put('/v1/systems/accounts', SYSTEMS['accounts']!)).statusCode).toBe(201);
      lines.length = 0;
      const accepted = await publish({ events: [] });
      const refused = await publish({ events: [], unknown: true });
      expect([accepted.statusCode, refused.statusCode]).toEqual([200, 400]);
      expect((await get(quiet.lethe, '/v1/policies', admin)).statusCode).toBe(200);
      const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const of = (id: unknown) => logged.filter((line) => line['reqId'] === id);
      expect(of(accepted.headers['x-request-id'])).toEqual([]);
      expect(of(refused.headers['x-request-id'])).toEqual([]);
      expect(logged.filter((line) => line['msg'] === 'request completed')).toHaveLength(1); // the GET
      // The 400 is counted by status.
      const metrics = await get(quiet.lethe, '/metrics');
      expect(metrics.body).toMatch(
        /lethe_http_request_duration_seconds_count\{[^}]*route="\/v1\/events"[^}]*status="400"[^}]*\} 1/,
      );

      await quiet.lethe.services.store.close(); // a natural 5xx
      const failed = await publish({
        events: [usage('s', 'user-account-access', ['accounts.email'], '2024-01-01T00:00:00Z')],
      });
      expect(failed.statusCode).toBeGreaterThanOrEqual(500);
      const failure =
        logged.length < lines.length
          ? lines.slice(logged.length).map((line) => JSON.parse(line) as Record<string, unknown>)
          : [];
      expect(failure.find((line) => line['msg'] === 'request failed')).toMatchObject({
        reqId: failed.headers['x-request-id'],
        level: 'error',
      });
    } finally {
      await quiet.dispose();
    }
  });

  it('redacts credential query parameters and nothing else', () => {
    expect(redactUrl('/v1/x?a=1&access_token=abc&b=2&TOKEN=def#f')).toBe(
      '/v1/x?a=1&access_token=[REDACTED]&b=2&TOKEN=[REDACTED]#f',
    );
    expect(redactUrl('/v1/x?tokens=1&mytoken=2')).toBe('/v1/x?tokens=1&mytoken=2');
    expect(scrubSecrets('{"msg":"eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"}')).toBe('{"msg":"[REDACTED]"}');
  });
});
