import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { createSignInCode } from '../../src/session/sign-in-codes.js';
import { createLethe, type Lethe } from '../../src/server.js';
import { DEFAULT_REQUEST_SETTINGS } from '../../src/requests/request-settings.js';
import { SQLITE_BACKEND } from './backends.js';
import { DASHBOARD_DIST } from '../../../dashboard/test/support/build.js';
import { POLICIES, SYSTEMS } from './fixtures.js';
import { ALL, CALLERS, READERS, SUBJECT, type Caller, type Expectation } from './access-matrix-roles.js';
import { RETENTION_EXPECTED } from './access-matrix-retention.js';
import { WEBHOOKS_EXPECTED } from './access-matrix-webhooks.js';

/**
 * Who may call what, written out by hand, independently of the permission table in the code;
 * a registered route without a decision here fails access-control-matrix.test.ts. Callers and
 * the shape of an expectation are in access-matrix-roles.ts, retention's routes in
 * access-matrix-retention.ts.
 */
export { ALL, SUBJECT, type Caller, type Expectation } from './access-matrix-roles.js';
const FIXED_REQUEST = 'matrix-fixed';
const CONNECTOR_URL = '/v1/connectors/matrix-connector';
const CLIENT = { system: 'accounts', protocol: 'ticket' };
const FLOW = { categories: ['user.contact.email'] };
const POLICY = { purpose: 'analytics.product', retention: 'P1D', legalBasis: 'contract' };
const CONNECTOR = {
  type: 'sqlite',
  urlEnv: 'MATRIX_CONNECTOR_URL',
  tables: [{ name: 'people', primaryKey: ['id'], columns: { email: ['email'] } }],
};
const MATRIX_CONTRACT = {
  version: 1,
  schema: {
    type: 'object',
    required: ['session', 'email'],
    properties: { session: { type: 'string' }, email: { type: 'string' } },
  },
  keyLink: 'session',
  subject: 'email',
  personal: [{ attribute: 'email', purposes: ['marketing.email'] }],
};
const STREAM_EXPORT = { target: 'file', purposes: ['marketing'], file: { maxAgeSeconds: 60 } };
/** A script of the built dashboard (the vitest global setup builds it). */
function dashboardScript(): string {
  const script = readdirSync(join(DASHBOARD_DIST, 'assets')).find((name) => name.endsWith('.js'));
  if (!script) throw new Error(`no built dashboard script in ${DASHBOARD_DIST}`);
  return script;
}

/** The code of the latest sign-in link made for the public exchange route. */
let signInCode = '';

export const EXPECTED: Record<string, Expectation> = {
  'GET /healthz': { allowed: 'public' },
  'GET /readyz': { allowed: 'public' },
  'GET /metrics': { allowed: 'public' },
  'GET /openapi.json': { allowed: 'public' },
  'GET /.well-known/jwks.json': { allowed: 'public' },
  // The dashboard's page and its assets; the data it shows comes from /v1 with the user's token.
  'GET /': { allowed: 'public' },
  'GET /assets/*': { allowed: 'public', url: () => `/assets/${dashboardScript()}` },
  // A one-time sign-in link's code is the credential: no token. Each call trades a fresh code.
  'POST /v1/session/exchange': {
    allowed: 'public',
    prepare: async () => {
      const link = await createSignInCode(
        lethe.services.store,
        { id: 'matrix-cli', role: 'admin' },
        {
          ...CALLERS.dpo,
          ttlSeconds: 600,
        },
      );
      signInCode = link.code;
    },
    payload: () => ({ code: signInCode }),
  },
  ...RETENTION_EXPECTED,
  ...WEBHOOKS_EXPECTED,
  'PUT /v1/subjects/:subject/consent': {
    allowed: ['admin', 'dpo', 'service'],
    url: `/v1/subjects/${SUBJECT}/consent`,
    payload: { purposes: { 'marketing.email': true }, source: 'matrix' },
  },
  'GET /v1/subjects/:subject/consent': {
    allowed: ['admin', 'dpo', 'auditorWithIds'],
    refusals: { auditor: 'SUBJECT_IDS_NOT_GRANTED' },
    url: `/v1/subjects/${SUBJECT}/consent`,
  },
  'POST /v1/consent/import': {
    allowed: ['admin', 'dpo', 'service'],
    payload: `{"subject":"${SUBJECT}","purposes":{"marketing.email":false}}\n`,
    contentType: 'application/x-ndjson',
  },
  'GET /v1/consent/violations': { allowed: READERS },
  'GET /v1/overview': { allowed: ALL },
  'GET /v1/jobs': { allowed: READERS },
  'GET /v1/jobs/:id': { allowed: READERS, url: () => `/v1/jobs/${matrixJob}`, prepare: matrixRecompute },
  'GET /v1/session': { allowed: ALL },
  // The DPO reads and verifies the log too (GDPR Art. 39: monitoring compliance).
  'GET /v1/audit': { allowed: READERS },
  'GET /v1/audit/verify': { allowed: READERS },
  'GET /v1/audit/checkpoints': { allowed: READERS },
  'POST /v1/audit/checkpoints': { allowed: ['admin'] },
  'POST /v1/keys/rotate': { allowed: ['admin'], payload: {} },
  'DELETE /v1/systems/:name': {
    allowed: ['admin', 'dpo'],
    url: '/v1/systems/matrix-gone',
    prepare: () => send('admin', 'PUT', '/v1/systems/matrix-gone', { team: 'matrix', datasets: [] }),
  },
  'GET /v1/teams': { allowed: ALL },
  'PUT /v1/teams/:name': {
    allowed: ['admin', 'dpo'],
    url: '/v1/teams/matrix-team',
    payload: { contact: 'x' },
  },
  'DELETE /v1/teams/:name': {
    allowed: ['admin', 'dpo'],
    url: '/v1/teams/matrix-gone',
    prepare: () => send('admin', 'PUT', '/v1/teams/matrix-gone', {}),
  },
  'GET /v1/flows': { allowed: ALL },
  'PUT /v1/flows/:from/:to': { allowed: ['admin', 'dpo'], url: '/v1/flows/accounts/mailer', payload: FLOW },
  'DELETE /v1/flows/:from/:to': {
    allowed: ['admin', 'dpo'],
    url: '/v1/flows/orders/mailer',
    prepare: () => send('admin', 'PUT', '/v1/flows/orders/mailer', { categories: ['user.contact.address'] }),
  },
  'GET /v1/clients': { allowed: ALL },
  'PUT /v1/clients/:name': { allowed: ['admin', 'dpo'], url: '/v1/clients/matrix-client', payload: CLIENT },
  'DELETE /v1/clients/:name': {
    allowed: ['admin', 'dpo'],
    url: '/v1/clients/matrix-gone',
    prepare: () => send('admin', 'PUT', '/v1/clients/matrix-gone', { system: 'orders', protocol: 'ticket' }),
  },
  'GET /v1/organisation': { allowed: ALL },
  'PUT /v1/organisation': { allowed: ['admin', 'dpo'], payload: { controller: { name: 'Matrix Ltd' } } },
  'GET /v1/taxonomy': { allowed: ALL },
  'PUT /v1/taxonomy': { allowed: ['admin', 'dpo'], payload: {} },
  'GET /v1/datamap/sources': { allowed: ALL },
  'POST /v1/datamap/sources/prometheus': {
    allowed: ['admin'],
    payload: { name: 'matrix-prometheus', url: 'http://127.0.0.1:9/', interval: 'PT1H' },
  },
  'POST /v1/datamap/sources/scrape': {
    allowed: ['admin'],
    payload: { name: 'matrix-scrape-2', targets: ['http://127.0.0.1:9/metrics'], interval: 'PT1H' },
  },
  'DELETE /v1/datamap/sources/:name': {
    allowed: ['admin'],
    url: '/v1/datamap/sources/matrix-gone',
    prepare: () =>
      send('admin', 'POST', '/v1/datamap/sources/prometheus', {
        name: 'matrix-gone',
        url: 'http://127.0.0.1:9/',
        interval: 'PT1H',
      }),
  },
  'POST /v1/datamap/sources/:name/discover': {
    allowed: ['admin', 'dpo'],
    url: '/v1/datamap/sources/matrix-scrape/discover',
  },
  'GET /v1/datamap/graph': { allowed: ALL },
  'GET /v1/datamap/holders': { allowed: ALL, url: '/v1/datamap/holders?category=user.contact.email' },
  'GET /v1/datamap/systems/:name/destinations': {
    allowed: ALL,
    url: '/v1/datamap/systems/accounts/destinations?category=user.contact.email',
  },
  'GET /v1/datamap/drift': { allowed: ALL, unlimitedOnly: true },
  'GET /v1/reports/ropa': { allowed: READERS, unlimitedOnly: true },
  'GET /v1/manifest': { allowed: READERS, unlimitedOnly: true },
  'POST /v1/manifest': {
    allowed: ['admin', 'dpo'],
    url: '/v1/manifest?dryRun=true',
    payload: { teams: [{ name: 'matrix-manifest' }] },
  },
  'POST /v1/requests': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    payload: () => ({ type: 'dsar', identifiers: { email: `matrix-${(serial += 1)}@example.com` } }),
  },
  'POST /v1/requests/import': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    contentType: 'text/csv',
    payload: () => `type,email\ndsar,matrix-csv-${(serial += 1)}@example.com\n`,
  },
  'GET /v1/requests': { allowed: READERS, unlimitedOnly: true },
  'GET /v1/requests/:id': { allowed: READERS, url: `/v1/requests/${FIXED_REQUEST}`, unlimitedOnly: true },
  'GET /v1/requests/:id/plan': {
    allowed: READERS,
    url: `/v1/requests/${FIXED_REQUEST}/plan`,
    unlimitedOnly: true,
  },
  'GET /v1/requests/:id/report': {
    allowed: READERS,
    url: `/v1/requests/${FIXED_REQUEST}/report`,
    unlimitedOnly: true,
  },
  // Allowed callers pass the permission check and meet the request's own rules: not completed yet.
  'GET /v1/requests/:id/package': {
    allowed: ['admin', 'dpo'],
    url: `/v1/requests/${FIXED_REQUEST}/package`,
    allowedStatus: 409,
    unlimitedOnly: true,
  },
  'POST /v1/requests/:id/verify-identity': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    prepare: () => newRequest(),
    url: () => `/v1/requests/${current}/verify-identity`,
    payload: { method: 'id document' },
  },
  'POST /v1/requests/:id/approve': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    prepare: () => newRequest(['verify']),
    url: () => `/v1/requests/${current}/approve`,
  },
  'POST /v1/requests/:id/deny': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    prepare: () => newRequest(),
    url: () => `/v1/requests/${current}/deny`,
    payload: { reason: 'identity not proven' },
  },
  'POST /v1/requests/:id/cancel': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    prepare: () => newRequest(),
    url: () => `/v1/requests/${current}/cancel`,
    payload: { reason: 'withdrawn by the person' },
  },
  'POST /v1/requests/:id/extend': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    prepare: () => newRequest(),
    url: () => `/v1/requests/${current}/extend`,
    payload: { reason: 'complex request' },
  },
  'POST /v1/requests/:id/confirm-receipt': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    prepare: () => newRequest(),
    url: () => `/v1/requests/${current}/confirm-receipt`,
  },
  'POST /v1/requests/:id/delivered': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    url: `/v1/requests/${FIXED_REQUEST}/delivered`,
    allowedStatus: 409,
  },
  'POST /v1/requests/:id/tasks/:task/retry': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    url: `/v1/requests/${FIXED_REQUEST}/tasks/1/retry`,
    allowedStatus: 409,
  },
  'POST /v1/requests/:id/tasks/:task/approve': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    url: `/v1/requests/${FIXED_REQUEST}/tasks/1/approve`,
    allowedStatus: 409,
  },
  // Skipping a system or marking it done by hand is the DPO's decision: a service token that
  // completes its own tickets may not (docs/security.md).
  'POST /v1/requests/:id/tasks/:task/skip': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    prepare: () => newRequest(['verify', 'approve']),
    url: () => `/v1/requests/${current}/tasks/${accountsTicket}/skip`,
    payload: { reason: 'handled by the accounts team in person' },
  },
  'POST /v1/requests/:id/tasks/:task/mark-done': {
    unlimitedOnly: true,
    allowed: ['admin', 'dpo'],
    prepare: () => newRequest(['verify', 'approve']),
    url: () => `/v1/requests/${current}/tasks/${accountsTicket}/mark-done`,
    payload: { note: 'done in the accounts back office' },
  },
  'POST /v1/requests/:id/tasks/:task/complete': {
    allowed: ['admin', 'dpo', 'service'],
    prepare: () => newRequest(['verify', 'approve']),
    url: () => `/v1/requests/${current}/tasks/${accountsTicket}/complete`,
    payload: { note: 'done by hand' },
  },
  'GET /v1/tickets': { allowed: ['admin', 'dpo', 'service'] },
  'GET /v1/suppressions/hits': { allowed: READERS, unlimitedOnly: true },
  'GET /v1/reports/overview': { allowed: READERS, unlimitedOnly: true },
  'GET /v1/connectors': { allowed: READERS, unlimitedOnly: true },
  'GET /v1/connectors/:name': { allowed: READERS, url: CONNECTOR_URL, unlimitedOnly: true },
  'PUT /v1/connectors/:name': {
    unlimitedOnly: true,
    allowed: ['admin'],
    url: '/v1/connectors/matrix-connector',
    payload: CONNECTOR,
  },
  'DELETE /v1/connectors/:name': {
    unlimitedOnly: true,
    allowed: ['admin'],
    url: '/v1/connectors/matrix-gone',
    prepare: () => send('admin', 'PUT', '/v1/connectors/matrix-gone', CONNECTOR),
  },
  'GET /v1/contracts': { allowed: ALL },
  'GET /v1/contracts/:name': { allowed: ALL, url: '/v1/contracts/matrix-contract' },
  'GET /v1/contracts/:name/versions/:version': {
    allowed: ALL,
    url: '/v1/contracts/matrix-contract/versions/1',
  },
  'PUT /v1/contracts/:name': {
    allowed: ['admin', 'dpo'],
    url: '/v1/contracts/matrix-contract',
    payload: MATRIX_CONTRACT,
  },
  'POST /v1/streams/events': {
    allowed: ['admin', 'service'],
    payload: () => [
      {
        id: `matrix-stream-${(serial += 1)}`,
        contract: 'matrix-contract@1',
        consent: ['marketing.email'],
        data: { session: 's-1', email: `${SUBJECT}@example.com` },
      },
    ],
  },
  'GET /v1/streams/events': { allowed: ['admin', 'service'], url: '/v1/streams/events?purposes=marketing' },
  'GET /v1/subjects/:subject/stream-keys': {
    allowed: ['admin', 'dpo', 'auditorWithIds'],
    refusals: { auditor: 'SUBJECT_IDS_NOT_GRANTED' },
    url: `/v1/subjects/${SUBJECT}@example.com/stream-keys`,
  },
  'DELETE /v1/subjects/:subject/stream-keys': {
    allowed: ['admin', 'dpo'],
    url: '/v1/subjects/matrix-nobody/stream-keys',
  },
  'DELETE /v1/stream-keys/:id': { allowed: ['admin', 'dpo'], url: '/v1/stream-keys/matrix-no-such-key' },
  'GET /v1/stream-exports': { allowed: READERS },
  'GET /v1/stream-exports/:name': { allowed: READERS, url: '/v1/stream-exports/matrix-export' },
  'PUT /v1/stream-exports/:name': {
    allowed: ['admin'],
    url: '/v1/stream-exports/matrix-export',
    payload: STREAM_EXPORT,
  },
  'DELETE /v1/stream-exports/:name': {
    allowed: ['admin'],
    url: '/v1/stream-exports/matrix-gone',
    prepare: () => send('admin', 'PUT', '/v1/stream-exports/matrix-gone', STREAM_EXPORT),
  },
};

const FIXED_REQUEST_ID = FIXED_REQUEST;
let matrixJob = '';
/** A retention recompute job, made once: a matrix-only policy whose retention changes. */
async function matrixRecompute(): Promise<void> {
  if (!matrixJob) await send('admin', 'PUT', '/v1/policies/matrix-jobs', POLICY);
  const changed = await send('admin', 'PUT', '/v1/policies/matrix-jobs', {
    ...POLICY,
    retention: 'P2D',
    reason: 'matrix recompute',
  });
  matrixJob ||= changed.json<{ recompute: { job: string } }>().recompute.job;
}
let serial = 0;
/** The request the last `prepare` made, and the position of its ticket for the accounts system. */
let current = '';
let accountsTicket = 0;

/** A new request (verification and approval are required here), taken through `steps`. */
async function newRequest(steps: ('verify' | 'approve')[] = []): Promise<void> {
  current = `matrix-request-${(serial += 1)}`;
  await send('admin', 'POST', '/v1/requests', {
    id: current,
    type: 'dsar',
    identifiers: { email: `${current}@example.com` },
  });
  if (steps.includes('verify')) {
    await send('admin', 'POST', `/v1/requests/${current}/verify-identity`, { method: 'test' });
  }
  if (steps.includes('approve')) {
    await send('admin', 'POST', `/v1/requests/${current}/approve`);
    // The runner opens the tickets; wait for the one of the service token's system.
    for (let tries = 0; tries < 200; tries += 1) {
      const tasks = (await send('admin', 'GET', `/v1/requests/${current}`)).json().tasks as {
        task: number;
        system?: string;
        state: string;
      }[];
      const ticket = tasks.find((task) => task.system === 'accounts' && task.state === 'waiting');
      if (ticket) {
        accountsTicket = ticket.task;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`request ${current} opened no ticket for accounts`);
  }
}

/**
 * The Lethe the access-control tests call, set by the hooks `openMatrixLethe` registers; the tests
 * read it as a live binding of this module.
 */
export let lethe: Lethe;
let dispose: () => Promise<void>;
const tokens = {} as Record<Caller, string>;
/** A `/metrics` target that answers with no series, for the discovery route. */
let emptyTarget: Server;

/** One Lethe for the calling test file, with a token per caller and something behind every route. */
export function openMatrixLethe(): void {
  beforeAll(async () => {
    const location = await SQLITE_BACKEND.create({ migrated: true });
    lethe = await createLethe({
      ...location,
      rateLimit: false,
      // Requests wait for people here, so that each route meets the request in the status it needs.
      requestSettings: { ...DEFAULT_REQUEST_SETTINGS, requireVerification: true, requireApproval: true },
      requestTickMs: 50,
    });
    dispose = location.dispose;
    for (const caller of ALL) {
      tokens[caller] = (await lethe.tokens.mint({ ...CALLERS[caller], ttlSeconds: 600 })).token;
    }
    for (const [name, body] of Object.entries(POLICIES))
      await send('admin', 'PUT', `/v1/policies/${name}`, body);
    for (const [name, body] of Object.entries(SYSTEMS))
      await send('admin', 'PUT', `/v1/systems/${name}`, body);
    await send('admin', 'PUT', '/v1/organisation', { controller: { name: 'Matrix Ltd' } });
    emptyTarget = createServer((_request, response) => response.end(''));
    await new Promise<void>((resolve) => emptyTarget.listen(0, '127.0.0.1', resolve));
    const { port } = emptyTarget.address() as AddressInfo;
    await send('admin', 'POST', '/v1/datamap/sources/scrape', {
      name: 'matrix-scrape',
      targets: [`http://127.0.0.1:${port}/metrics`],
      interval: 'PT1H',
    });
    await send('admin', 'PUT', '/v1/connectors/matrix-connector', CONNECTOR);
    await send('admin', 'PUT', '/v1/contracts/matrix-contract', MATRIX_CONTRACT);
    await send('admin', 'PUT', '/v1/stream-exports/matrix-export', STREAM_EXPORT);
    await send('admin', 'POST', '/v1/requests', {
      id: FIXED_REQUEST_ID,
      type: 'dsar',
      identifiers: { email: 'fixed@example.com' },
    });
    await send('admin', 'POST', `/v1/requests/${FIXED_REQUEST_ID}/verify-identity`, { method: 'test' });
    await send('admin', 'POST', `/v1/requests/${FIXED_REQUEST_ID}/approve`);
  });
  afterAll(async () => {
    await lethe?.close();
    await dispose?.();
    await new Promise((resolve) => emptyTarget?.close(resolve));
  });
}

export function send(
  caller: Caller | undefined,
  method: string,
  url: string,
  payload?: unknown,
  contentType?: string,
) {
  const body = typeof payload === 'function' ? (payload as () => unknown)() : payload;
  return lethe.app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(caller ? { authorization: `Bearer ${tokens[caller]}` } : {}),
      ...(contentType ? { 'content-type': contentType } : {}),
    },
    ...(body === undefined ? {} : { payload: body as object }),
  });
}
