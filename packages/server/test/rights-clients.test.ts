import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Identifiers } from '@lethe/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallTokens } from '../src/auth/call-tokens.js';
import type { Principal } from '../src/auth/principal.js';
import { DEFAULT_TOKEN_SETTINGS } from '../src/auth/token-rules.js';
import { CallOut } from '../src/requests/rights-clients/call-out.js';
import { GrpcRightsClient, PDCLIENT_PROTO_PATH } from '../src/requests/rights-clients/grpc-rights-client.js';
import { HttpRightsClient } from '../src/requests/rights-clients/http-rights-client.js';
import { createTransport } from '../src/requests/rights-clients/rights-client-transports.js';
import {
  RightsClientError,
  type ClientRecord,
  type RightsClientCall,
  type RightsClientTransport,
} from '../src/requests/rights-clients/rights-client.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import {
  startGrpcRightsClient,
  startHttpRightsClient,
  type GrpcRightsClientFixtureOptions,
  type HttpRightsClientFixtureOptions,
  type RightsClientFixture,
} from './support/rights-client-fixtures.js';
import { unusedPort } from './support/ports.js';

/**
 * Lethe's rights-client transports (DESIGN.md §6) against fake rights clients over real sockets:
 * each verifies Lethe's call tokens with the SDK against the JWKS a real Lethe serves on loopback.
 */

const DPO: Principal = { id: 'dpo-alice', role: 'dpo', issuer: 'lethe', tokenId: 'not-for-callees' };
const ALICE = 'alice@example.com';
const ALICE_RECORDS: ClientRecord[] = [
  { dataset: 'customers', pk: '42', fields: { email: ALICE, name: 'Alice', visits: 3, vip: true } },
  { dataset: 'orders', pk: '7', fields: { email: ALICE, total: 12.5, note: null } },
];

function call(identifiers: Identifiers, overrides: Partial<RightsClientCall> = {}): RightsClientCall {
  return { requestId: 'req-1', taskId: 'task-1', identifiers, actor: DPO, timeoutMs: 5_000, ...overrides };
}

/** The RightsClientError a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<RightsClientError> {
  const error: unknown = await promise.then(
    (value) => new Error(`expected a failure, got ${JSON.stringify(value)}`),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(RightsClientError);
  return error as RightsClientError;
}

describe('rights-client transports', () => {
  let location: Awaited<ReturnType<typeof SQLITE_BACKEND.create>>;
  let lethe: Lethe;
  let jwksUrl: string;
  let tokens: CallTokens;
  let callOut: CallOut;
  const open: { close(): unknown }[] = [];

  beforeAll(async () => {
    location = await SQLITE_BACKEND.create({ migrated: true });
    lethe = await createLethe({ dataDir: location.dataDir });
    jwksUrl = `${await lethe.app.listen({ port: 0, host: '127.0.0.1' })}/.well-known/jwks.json`;
    tokens = new CallTokens(lethe.services.keys, DEFAULT_TOKEN_SETTINGS);
    callOut = new CallOut(tokens);
  });

  afterEach(async () => {
    for (const item of open.splice(0)) await item.close();
  });

  afterAll(async () => {
    await lethe?.close();
    await location?.dispose();
  });

  function track<T extends { close(): unknown }>(item: T): T {
    open.push(item);
    return item;
  }

  async function httpFixture(
    options: Partial<HttpRightsClientFixtureOptions> = {},
  ): Promise<Awaited<ReturnType<typeof startHttpRightsClient>>> {
    return track(
      await startHttpRightsClient({
        jwksUrl,
        audience: 'rights-client:crm',
        records: new Map([[ALICE, ALICE_RECORDS]]),
        ...options,
      }),
    );
  }

  async function grpcFixture(
    options: Partial<GrpcRightsClientFixtureOptions> = {},
  ): Promise<Awaited<ReturnType<typeof startGrpcRightsClient>>> {
    return track(
      await startGrpcRightsClient({
        jwksUrl,
        audience: 'rights-client:billing',
        records: new Map([[ALICE, ALICE_RECORDS]]),
        ...options,
      }),
    );
  }

  const httpClient = (address: string, name = 'crm') =>
    track(new HttpRightsClient({ name, address, callOut }));
  const grpcClient = (address: string, name = 'billing') =>
    track(new GrpcRightsClient({ name, address, tokens, credentials: 'insecure' }));

  /** The callee saw who acted, its own audience and the request id, in the token and the header. */
  function expectPropagated(fixture: RightsClientFixture, audience: string, requestId = 'req-1'): void {
    const seen = fixture.calls.at(-1)!;
    expect(seen.verified).toMatchObject({ actor: { id: 'dpo-alice', role: 'dpo' }, audience, requestId });
    expect(seen.actor).toEqual({ id: 'dpo-alice', role: 'dpo' });
    expect(seen.requestIdHeader).toBe(requestId);
  }

  describe('over HTTP', () => {
    it('gets the records, the callee seeing the actor, its audience and the request', async () => {
      const fixture = await httpFixture();
      const answer = await httpClient(fixture.url).get(call({ email: ALICE }));
      expect(answer).toEqual({ records: ALICE_RECORDS, deleted: 0 });
      expectPropagated(fixture, 'rights-client:crm');
      expect(fixture.calls.at(-1)).toMatchObject({
        path: '/get',
        body: { requestId: 'req-1', taskId: 'task-1', identifiers: { email: ALICE } },
        answered: 200,
      });
    });

    it('deletes rows, and a retry of the same task answers the same count', async () => {
      const fixture = await httpFixture();
      const client = httpClient(fixture.url);
      expect(await client.delete(call({ email: ALICE }), 'rows')).toEqual({ records: [], deleted: 2 });
      expect(fixture.calls.at(-1)!.body).toEqual({
        requestId: 'req-1',
        taskId: 'task-1',
        identifiers: { email: ALICE },
        mode: 'rows',
      });
      expect(fixture.deleted).toEqual(new Set([ALICE]));
      expect(await client.delete(call({ email: ALICE }), 'rows')).toEqual({ records: [], deleted: 2 });
      // Gone: the client now knows nothing about her (404).
      expect(await client.get(call({ email: ALICE }, { requestId: 'req-2' }))).toEqual({
        records: [],
        deleted: 0,
      });
      expect(fixture.calls.at(-1)!.answered).toBe(404);
    });

    it('clears personal fields in pii mode', async () => {
      const fixture = await httpFixture();
      const client = httpClient(fixture.url);
      expect(await client.delete(call({ subject: 'u-1', email: ALICE }), 'pii')).toMatchObject({
        deleted: 2,
      });
      const { records } = await client.get(call({ email: ALICE }));
      expect(records[0]).toEqual({
        dataset: 'customers',
        pk: '42',
        fields: { email: null, name: null, visits: null, vip: null },
      });
    });

    it('answers nothing for a person the client does not know (404)', async () => {
      const fixture = await httpFixture();
      const client = httpClient(fixture.url);
      expect(await client.get(call({ email: 'bob@example.com' }))).toEqual({ records: [], deleted: 0 });
      expect(await client.delete(call({ email: 'bob@example.com' }), 'rows')).toEqual({
        records: [],
        deleted: 0,
      });
      expect(fixture.calls.map((seen) => seen.answered)).toEqual([404, 404]);
    });

    it('refuses a 404 without the contract body: a wrong address must not count as done', async () => {
      const fixture = await httpFixture({ respond: () => ({ status: 404, body: 'Cannot POST /get' }) });
      const error = await failure(httpClient(fixture.url).delete(call({ email: ALICE }), 'rows'));
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('answered 404');
    });

    it('fails as retryable on a 503, and succeeds on the next try', async () => {
      const fixture = await httpFixture({ failFirst: 1 });
      const client = httpClient(fixture.url);
      const error = await failure(client.get(call({ email: ALICE })));
      expect(error.retryable).toBe(true);
      expect(error.message).toBe('Rights client "crm" answered 503 to POST /get: Try again later.');
      expect((await client.get(call({ email: ALICE }))).records).toHaveLength(2);
    });

    it.each([408, 425, 429, 500, 502])('classifies %i as retryable', async (status) => {
      const fixture = await httpFixture({ respond: () => ({ status }) });
      const error = await failure(httpClient(fixture.url).get(call({ email: ALICE })));
      expect(error).toMatchObject({ retryable: true, message: expect.stringContaining(`${status}`) });
    });

    it("fails as not retryable on a 400, quoting the client's message", async () => {
      const fixture = await httpFixture({
        respond: () => ({
          status: 400,
          body: { error: { code: 'BAD_IDENTIFIERS', message: 'identifiers.email is not an address' } },
        }),
      });
      const error = await failure(httpClient(fixture.url).delete(call({ email: ALICE }), 'rows'));
      expect(error.retryable).toBe(false);
      expect(error.message).toBe(
        'Rights client "crm" answered 400 to POST /delete: identifiers.email is not an address',
      );
      // Nothing was deleted.
      expect(fixture.deleted.size).toBe(0);
    });

    it("truncates a long refusal and reads plain-text ones; a callee's 401 is not retried", async () => {
      const long = await httpFixture({ respond: () => ({ status: 422, body: 'x'.repeat(5_000) }) });
      const error = await failure(httpClient(long.url).get(call({ email: ALICE })));
      expect(error.retryable).toBe(false);
      expect(error.message.length).toBeLessThan(400);
      expect(error.message).toMatch(/422 to POST \/get: x+…$/);

      // The fixture expects rights-client:crm; a token minted for "billing" is refused.
      const fixture = await httpFixture();
      const refused = await failure(httpClient(fixture.url, 'billing').get(call({ email: ALICE })));
      expect(refused.retryable).toBe(false);
      expect(refused.message).toMatch(/answered 401 .*not valid/);
      expect(fixture.calls.at(-1)!.actor).toBeUndefined();
    });

    it('times out as retryable, within about the timeout', async () => {
      const fixture = await httpFixture({ latencyMs: 3_000 });
      const started = performance.now();
      const error = await failure(httpClient(fixture.url).get(call({ email: ALICE }, { timeoutMs: 200 })));
      expect(performance.now() - started).toBeLessThan(1_500);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/no answer within 200 ms/);
    });

    it('refuses a 2xx that breaks the contract, not retryable', async () => {
      const bodies: [operation: 'get' | 'delete', body: unknown][] = [
        ['get', { rows: [] }],
        ['get', { records: [{ dataset: 'customers' }] }],
        ['get', { records: [{ fields: {}, dataset: 3 }] }],
        ['get', 'OK'],
        ['get', undefined],
        ['delete', { deleted: '2' }],
        ['delete', { deleted: -1 }],
        ['delete', {}],
      ];
      for (const [operation, body] of bodies) {
        const fixture = await httpFixture({ respond: () => ({ status: 200, body }) });
        const client = httpClient(fixture.url);
        const attempt =
          operation === 'get'
            ? client.get(call({ email: ALICE }))
            : client.delete(call({ email: ALICE }), 'pii');
        const error = await failure(attempt);
        expect(error.retryable, JSON.stringify(body)).toBe(false);
        expect(error.message).toMatch(`answered POST /${operation} with a body that breaks the contract`);
      }
    });

    it('fails as retryable when nothing listens', async () => {
      const error = await failure(
        httpClient(`http://127.0.0.1:${await unusedPort()}`).get(call({ email: ALICE })),
      );
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/^Rights client "crm": POST http:\/\/127\.0\.0\.1:\d+\/get failed/);
    });

    it("keeps the address's base path", async () => {
      const fixture = await httpFixture();
      await httpClient(`${fixture.url}/privacy`).get(call({ email: ALICE }));
      await httpClient(`${fixture.url}/api/privacy/?tenant=acme`).delete(call({ email: ALICE }), 'rows');
      expect(fixture.calls.map((seen) => seen.path)).toEqual(['/privacy/get', '/api/privacy/delete']);
    });

    it('refuses addresses that are not http(s) URLs', () => {
      for (const address of ['ftp://crm.internal/privacy', 'crm.internal:8080', 'file:///etc/passwd']) {
        expect(() => new HttpRightsClient({ name: 'crm', address, callOut })).toThrow(RightsClientError);
      }
      expect(
        () => new HttpRightsClient({ name: 'crm', address: 'https://u:p@crm.internal', callOut }),
      ).toThrow(/credentials/);
    });
  });

  describe('over gRPC', () => {
    it('gets the records as text, the callee seeing the actor, its audience and the request', async () => {
      const fixture = await grpcFixture();
      const answer = await grpcClient(fixture.address).get(
        call({ email: ALICE, customKey2: 'k2', address: { address: '1 Main St', city: 'Lyon' } }),
      );
      // Values travel as text: non-strings as their JSON text, nulls left out.
      expect(answer).toEqual({
        records: [
          {
            dataset: 'customers',
            pk: '42',
            fields: { email: ALICE, name: 'Alice', visits: '3', vip: 'true' },
          },
          { dataset: 'orders', pk: '7', fields: { email: ALICE, total: '12.5' } },
        ],
        deleted: 0,
      });
      expectPropagated(fixture, 'rights-client:billing');
      expect(fixture.calls.at(-1)).toMatchObject({
        path: '/lethe.rights.v1.PDClient/Get',
        answered: 'OK',
        body: {
          request_id: 'req-1',
          task_id: 'task-1',
          identifiers: {
            subject: '',
            email: ALICE,
            custom_key_2: 'k2',
            address: { address: '1 Main St', address2: '', city: 'Lyon', country: '' },
          },
        },
      });
    });

    it('deletes rows and clears pii, and answers nothing for an unknown person (NOT_FOUND)', async () => {
      const fixture = await grpcFixture({
        records: new Map([
          [ALICE, ALICE_RECORDS],
          ['u-2', [{ fields: { name: 'Bob' } }]],
        ]),
      });
      const client = grpcClient(fixture.address);
      expect(await client.delete(call({ email: ALICE }), 'rows')).toEqual({ records: [], deleted: 2 });
      expect(fixture.calls.at(-1)!.body).toMatchObject({ mode: 'MODE_ROWS' });
      expect(await client.delete(call({ subject: 'u-2' }, { taskId: 'task-2' }), 'pii')).toEqual({
        records: [],
        deleted: 1,
      });
      expect(fixture.records.get('u-2')).toEqual([{ fields: { name: null } }]);
      expect(fixture.deleted).toEqual(new Set([ALICE, 'u-2']));
      expectPropagated(fixture, 'rights-client:billing');

      expect(await client.get(call({ email: ALICE }))).toEqual({ records: [], deleted: 0 });
      expect(await client.delete(call({ email: 'nobody@example.com' }, { taskId: 't3' }), 'rows')).toEqual({
        records: [],
        deleted: 0,
      });
      expect(fixture.calls.slice(-2).map((seen) => seen.answered)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    });

    it('fails as retryable on UNAVAILABLE, and succeeds on the next try', async () => {
      const fixture = await grpcFixture({ failFirst: 1 });
      const client = grpcClient(fixture.address);
      const error = await failure(client.get(call({ email: ALICE })));
      expect(error.retryable).toBe(true);
      expect(error.message).toBe(
        'Rights client "billing" answered /lethe.rights.v1.PDClient/Get with UNAVAILABLE: Try again later.',
      );
      expect((await client.get(call({ email: ALICE }))).records).toHaveLength(2);
    });

    it('classifies refusals as not retryable and passing failures as retryable', async () => {
      const cases: [code: number, retryable: boolean][] = [
        [3, false], // INVALID_ARGUMENT
        [7, false], // PERMISSION_DENIED
        [9, false], // FAILED_PRECONDITION
        [12, false], // UNIMPLEMENTED
        [8, true], // RESOURCE_EXHAUSTED
        [10, true], // ABORTED
        [13, true], // INTERNAL
      ];
      for (const [code, retryable] of cases) {
        const fixture = await grpcFixture({ respond: () => ({ code, details: 'the client says why' }) });
        const error = await failure(grpcClient(fixture.address).delete(call({ email: ALICE }), 'rows'));
        expect(error.retryable, `code ${code}`).toBe(retryable);
        expect(error.message).toMatch(/Delete with [A-Z_]+: the client says why$/);
      }
      const invalid = await grpcFixture({ respond: () => ({ code: 3, details: 'email is malformed' }) });
      const error = await failure(grpcClient(invalid.address).get(call({ email: ALICE })));
      expect(error.message).toBe(
        'Rights client "billing" answered /lethe.rights.v1.PDClient/Get with INVALID_ARGUMENT: email is malformed',
      );
    });

    it('fails as not retryable with UNAUTHENTICATED when the token is not for this client', async () => {
      const fixture = await grpcFixture();
      const error = await failure(grpcClient(fixture.address, 'crm').get(call({ email: ALICE })));
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/with UNAUTHENTICATED: TOKEN_INVALID: The call token is not valid/);
      expect(fixture.calls.at(-1)!.actor).toBeUndefined();
    });

    it('fails as retryable at the deadline, within about the timeout', async () => {
      const fixture = await grpcFixture({ latencyMs: 3_000 });
      const started = performance.now();
      const error = await failure(
        grpcClient(fixture.address).get(call({ email: ALICE }, { timeoutMs: 200 })),
      );
      expect(performance.now() - started).toBeLessThan(1_500);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/DEADLINE_EXCEEDED/);
    });

    it('fails as retryable when nothing listens', async () => {
      const error = await failure(grpcClient(`127.0.0.1:${await unusedPort()}`).get(call({ email: ALICE })));
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/UNAVAILABLE/);
    });

    it('finds its proto from src/ and from dist/', () => {
      expect(existsSync(PDCLIENT_PROTO_PATH)).toBe(true);
      const serverPackage = new URL('../', import.meta.url);
      const expected = fileURLToPath(new URL('proto/lethe/rights/v1/pdclient.proto', serverPackage));
      for (const folder of ['src', 'dist']) {
        const module = new URL(`${folder}/connectors/rights-clients/grpc-rights-client.js`, serverPackage);
        const resolved = new URL('../../../proto/lethe/rights/v1/pdclient.proto', module);
        expect(fileURLToPath(resolved)).toBe(expected);
      }
      expect(PDCLIENT_PROTO_PATH).toBe(expected);
    });

    it('refuses an http URL as address', () => {
      expect(
        () => new GrpcRightsClient({ name: 'billing', address: 'http://billing:50051', tokens }),
      ).toThrow(/host:port/);
    });
  });

  describe('createTransport', () => {
    it('picks the transport by protocol', async () => {
      const fixture = await httpFixture();
      const http: RightsClientTransport = track(
        createTransport({ name: 'crm', protocol: 'http', address: fixture.url }, { callOut, tokens }),
      );
      expect(http).toBeInstanceOf(HttpRightsClient);
      expect((await http.get(call({ email: ALICE }))).records).toHaveLength(2);

      const grpc = await grpcFixture();
      const viaGrpc = track(
        createTransport(
          { name: 'billing', protocol: 'grpc', address: grpc.address },
          { callOut, tokens, grpcCredentials: 'insecure' },
        ),
      );
      expect(viaGrpc).toBeInstanceOf(GrpcRightsClient);
      expect((await viaGrpc.get(call({ email: ALICE }))).records).toHaveLength(2);
    });

    it('refuses ticket clients, unknown protocols and missing addresses', () => {
      expect(() => createTransport({ name: 'hr', protocol: 'ticket' }, { callOut, tokens })).toThrow(
        TypeError,
      );
      expect(() =>
        createTransport({ name: 'x', protocol: 'smtp', address: 'a' }, { callOut, tokens }),
      ).toThrow(/unknown protocol/);
      expect(() => createTransport({ name: 'crm', protocol: 'http' }, { callOut, tokens })).toThrow(
        /no address/,
      );
    });
  });
});
