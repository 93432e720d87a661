import Fastify from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleError } from '../src/http/errors.js';
import { AppError } from '../src/lib/app-error.js';
import { createLethe, type Lethe } from '../src/server.js';
import { availableBackends, POSTGRES_ADMIN_URL } from './support/backends.js';
import { loadFixtures } from './support/fixtures.js';
import { CLICKSTREAM } from './support/privacy-streams-harness.js';

/**
 * One text rule at the HTTP layer (issue 16): a string in a query value, a path parameter or a
 * JSON body that holds NUL or a lone surrogate is 400 INVALID_TEXT before any route runs, and
 * nothing is stored. PostgreSQL refuses NUL in text (a 500 before), SQLite stored a lone surrogate
 * as invalid UTF-8. Batch routes refuse such text per item instead. Bodies are written by hand:
 * `\\u0000` stays a JSON escape that the server's JSON.parse turns into the character.
 */

const available = await availableBackends();
const AT = new Date(Date.now() - 3_600_000).toISOString();

/** Each bad character as a JSON escape, percent-encoded for a URL (none for a lone surrogate: its UTF-8 does not exist), and as the refusal names it. */
const BAD = [
  { name: 'NUL', json: '\\u0000', url: '%00', says: 'holds U+0000, a control character' },
  { name: 'a lone high surrogate', json: '\\ud800', says: 'holds U+D800, a lone surrogate' },
  { name: 'a lone low surrogate', json: '\\udfff', says: 'holds U+DFFF, a lone surrogate' },
] as const;

interface BodyCase {
  readonly feature: string;
  readonly method: 'PUT' | 'POST';
  readonly url: string;
  /** The body, the bad text at `${T}`; the marker `mk-<n>` goes next to it. */
  readonly body: string;
  /** Where the refusal points (the JSON pointer). */
  readonly path: string;
  /** A read that would show the marker, had anything been stored. */
  readonly readBack: string;
  /** Good text for `${T}` where free text will not do (a purpose key); default a text with a tab and a newline. */
  readonly good?: string;
  /** Where the schema holds a stricter rule for the field, its own code answers first. */
  readonly code?: 'VALIDATION_FAILED';
}

const CONTRACT = JSON.stringify({ ...CLICKSTREAM, description: '${T}' });

const BODY_CASES: readonly BodyCase[] = [
  {
    feature: 'retention: policy description',
    method: 'PUT',
    url: '/v1/policies/p-text',
    body: '{"purpose":"marketing.email","retention":"P1Y","legalBasis":"consent","description":"${T}"}',
    path: '/description',
    readBack: '/v1/policies',
  },
  {
    feature: 'retention: system description',
    method: 'PUT',
    url: '/v1/systems/s-text',
    body: '{"team":"identity","description":"${T}"}',
    path: '/description',
    readBack: '/v1/systems',
  },
  {
    feature: 'retention: system team, nested dataset field description',
    method: 'PUT',
    url: '/v1/systems/s-text-2',
    body: '{"team":"${T}","datasets":[]}',
    path: '/team',
    readBack: '/v1/systems',
  },
  {
    feature: 'datamap: team description',
    method: 'PUT',
    url: '/v1/teams/t-text',
    body: '{"description":"${T}","contact":"ops@example.com"}',
    path: '/description',
    readBack: '/v1/teams',
  },
  {
    feature: 'datamap: flow description',
    method: 'PUT',
    url: '/v1/flows/accounts/orders',
    body: '{"categories":["user.contact.email"],"description":"${T}"}',
    path: '/description',
    readBack: '/v1/flows',
  },
  {
    feature: 'datamap: organisation, nested contact',
    method: 'PUT',
    url: '/v1/organisation',
    body: '{"controller":{"name":"Shop","address":"${T}"}}',
    path: '/controller/address',
    readBack: '/v1/organisation',
  },
  {
    feature: 'datamap: rights client address',
    method: 'PUT',
    url: '/v1/clients/cl-text',
    body: '{"system":"accounts","protocol":"http","address":"http://clients.example/${T}"}',
    path: '/address',
    readBack: '/v1/clients',
  },
  {
    feature: 'manifests: a team description in an array',
    method: 'POST',
    url: '/v1/manifest',
    body: '{"teams":[{"name":"t-ok"},{"name":"t-manifest","description":"${T}"}]}',
    path: '/teams/1/description',
    readBack: '/v1/teams',
  },
  {
    feature: 'requests: connector description',
    method: 'PUT',
    url: '/v1/connectors/c-text',
    body:
      '{"type":"postgres","urlEnv":"SHOP_URL","description":"${T}",' +
      '"tables":[{"name":"users","primaryKey":["id"],"columns":{"email":["email"]}}]}',
    path: '/description',
    readBack: '/v1/connectors',
  },
  {
    feature: 'requests: an extension reason',
    method: 'POST',
    url: '/v1/requests/r-text/extend',
    body: '{"reason":"${T}"}',
    path: '/reason',
    readBack: '/v1/requests/r-text',
  },
  {
    feature: 'requests: a ticket record (an open object)',
    method: 'POST',
    url: '/v1/requests/r-text/tasks/1/complete',
    body: '{"records":[{"dataset":"users","fields":{"email":"a@example.com","bio":"${T}"}}]}',
    path: '/records/0/fields/bio',
    readBack: '/v1/requests/r-text',
  },
  {
    feature: 'consent: a notice (the schema had a rule for it already)',
    method: 'PUT',
    url: '/v1/subjects/u-text/consent',
    body: '{"purposes":{"analytics":true},"notice":"${T}"}',
    path: '/notice',
    readBack: '/v1/subjects/u-text/consent',
    code: 'VALIDATION_FAILED',
  },
  {
    feature: 'consent: a purpose key (object keys are text too)',
    method: 'PUT',
    url: '/v1/subjects/u-text/consent',
    body: '{"purposes":{"analytics":true,"${T}":true}}',
    path: '/purposes',
    readBack: '/v1/subjects/u-text/consent',
    good: 'marketing.email',
  },
  {
    feature: 'streams: contract description',
    method: 'PUT',
    url: '/v1/contracts/c-text',
    body: CONTRACT,
    path: '/description',
    readBack: '/v1/contracts',
  },
];

/** Query values and path parameters, `${T}` the percent-encoded bad text. */
const URL_CASES: readonly { feature: string; url: string; where: string; code?: 'VALIDATION_FAILED' }[] = [
  {
    feature: 'consent: violations filter',
    url: '/v1/consent/violations?policy=a${T}',
    where: 'query /policy',
  },
  {
    feature: 'retention: expiries filter',
    url: '/v1/expiries?from=2026-01-01&to=2026-12-31&field=a${T}',
    where: 'query /field',
  },
  {
    feature: 'streams: derived stream purposes',
    url: '/v1/streams/events?purposes=a${T}',
    where: 'query /purposes',
  },
  { feature: 'requests: list filter', url: '/v1/requests?status=a${T}', where: 'query /status' },
  {
    feature: 'datamap: holders of a category',
    url: '/v1/datamap/holders?category=user${T}',
    where: 'query /category',
  },
  {
    feature: 'retention: policy name',
    url: '/v1/policies/p${T}',
    where: 'params /name',
    code: 'VALIDATION_FAILED',
  },
  {
    feature: 'requests: request id',
    url: '/v1/requests/r${T}',
    where: 'params /id',
    code: 'VALIDATION_FAILED',
  },
  {
    feature: 'consent: subject',
    url: '/v1/subjects/u${T}/consent',
    where: 'params /subject',
    code: 'VALIDATION_FAILED',
  },
];

const usage = (id: string, subject: string, extra = '') =>
  `{"id":"${id}","subject":"${subject}","system":"accounts","policy":"user-account-access",` +
  `"fields":["accounts.email"],"at":"${AT}"${extra}}`;

describe.each(available)('bad text: $name', (backend) => {
  let lethe: Lethe;
  let dispose = async () => undefined as void;
  let token: string;

  beforeAll(async () => {
    const location = await backend.create({ migrated: true });
    lethe = await createLethe({ ...location, rateLimit: false });
    dispose = async () => {
      await lethe.close();
      await location.dispose();
    };
    await loadFixtures(lethe.services);
    token = (await lethe.tokens.mint({ subject: 'alice', role: 'admin', ttlSeconds: 600 })).token;
    const contract = await send('PUT', '/v1/contracts/clickstream', JSON.stringify(CLICKSTREAM));
    expect(contract.statusCode, contract.body).toBe(201);
    // By email: the request waits for an identity check, and its ticket for a team.
    const request = await send(
      'POST',
      '/v1/requests',
      '{"id":"r-text","type":"dsar","identifiers":{"email":"r@example.com"}}',
    );
    expect(request.statusCode, request.body).toBe(201);
  });
  afterAll(() => dispose());

  function send(method: string, url: string, payload?: string, contentType = 'application/json') {
    return lethe.app.inject({
      method: method as 'POST',
      url,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload === undefined ? {} : { 'content-type': contentType }),
      },
      ...(payload === undefined ? {} : { payload }),
    });
  }

  /** The audit trail's entries of changes (reads are audited too): a refused request adds none. */
  async function auditedChanges(): Promise<string[]> {
    const actions: string[] = [];
    for (let after: number | undefined = 0; after !== undefined;) {
      const page = await send('GET', `/v1/audit?after=${after}&limit=1000`);
      const { items, next } = page.json<{ items: { action: string }[]; next?: number }>();
      actions.push(...items.map((item) => item.action).filter((action) => !action.endsWith('.read')));
      after = next;
    }
    return actions;
  }

  describe.each(BODY_CASES)('$feature', (route) => {
    it.each(BAD)('$name in the body is 400 INVALID_TEXT naming where, and nothing is stored', async (bad) => {
      const marker = `mk-${bad.name.length}-${route.path.length}`;
      const audited = await auditedChanges();
      const response = await send(
        route.method,
        route.url,
        route.body.replace('${T}', `${marker}${bad.json}`),
      );
      expect(response.statusCode, response.body).toBe(400);
      const { error } = response.json();
      expect(error.requestId).toBeTypeOf('string');
      if (route.code === undefined) {
        expect(error).toMatchObject({ code: 'INVALID_TEXT', details: { in: 'body', path: route.path } });
        expect(error.message).toContain(`body ${route.path} ${bad.says}`);
      } else {
        expect(error.code).toBe(route.code);
      }
      const after = await send('GET', route.readBack);
      expect(after.statusCode, after.body).toBeLessThan(500);
      expect(after.body).not.toContain(marker);
      expect(await auditedChanges()).toEqual(audited);
    });

    it('the same body with good text (newlines and tabs too) is accepted', async () => {
      const response = await send(
        route.method,
        route.url,
        route.body.replace('${T}', route.good ?? 'fine\\ttext\\nhere'),
      );
      expect(response.statusCode, response.body).toBeLessThan(300);
    });
  });

  describe.each(URL_CASES)('$feature', (route) => {
    it('NUL is 400 INVALID_TEXT naming where (a path parameter: its id rule first)', async () => {
      const response = await send('GET', route.url.replace('${T}', '%00'));
      expect(response.statusCode, response.body).toBe(400);
      const { error } = response.json();
      expect(error.code).toBe(route.code ?? 'INVALID_TEXT');
      if (route.code === undefined) expect(error.message).toContain(`${route.where} holds U+0000`);
    });

    it('a lone surrogate, percent-encoded (%ED%A0%80 is not UTF-8), is 400 INVALID_URL', async () => {
      const response = await send('GET', route.url.replace('${T}', '%ED%A0%80'));
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().error.code).toBe('INVALID_URL');
    });
  });

  it('usage events: bad text refuses its event only (JSON and NDJSON)', async () => {
    const events = [
      usage('ut-ok', 'u-ut'),
      usage('ut-\\ud800', 'u-ut'),
      usage('ut-policy', 'u-ut').replace('user-account-access', 'user-account-access\\u0000'),
      usage('ut-field', 'u-ut').replace('accounts.email', 'accounts.email\\ud800'),
    ];
    const json = await send('POST', '/v1/events', `{"events":[${events.join(',')}]}`);
    expect(json.statusCode, json.body).toBe(200);
    expect(json.json().accepted).toBe(1);
    expect(json.json().rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [1, 'INVALID_EVENT'],
      [2, 'POLICY_NOT_FOUND'],
      [3, 'FIELD_NOT_DECLARED'],
    ]);
    const lines = [usage('ut-nd-ok', 'u-ut'), usage('ut-nd-bad', 'u-\\u0000')].join('\n');
    const ndjson = await send('POST', '/v1/events', lines, 'application/x-ndjson');
    expect(ndjson.statusCode, ndjson.body).toBe(200);
    expect(ndjson.json()).toMatchObject({ accepted: 1, rejected: [{ index: 1, code: 'INVALID_EVENT' }] });
  });

  it('stream events: bad text in the envelope refuses its event; strings in data are kept, JSON-escaped', async () => {
    const click = (id: string, contract: string, url: string) =>
      `{"id":"${id}","contract":"${contract}","consent":["essential"],"at":"${AT}",` +
      `"data":{"sessionId":"st-1","customerId":"c-1","url":"${url}"}}`;
    const events = [
      click('st-ok', 'clickstream@1', 'https://shop.example/a\\u0000b'),
      click('st-bad-contract', 'clickstream\\u0000@1', 'https://shop.example/'),
      click('st-data-surrogate', 'clickstream@1', 'https://shop.example/\\ud800'),
    ];
    const response = await send('POST', '/v1/streams/events', `[${events.join(',')}]`);
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json();
    expect(result.rejected.map((r: { index: number }) => r.index)).toEqual([1]);
    expect(result.accepted).toBe(2);
    const page = await send('GET', '/v1/streams/events?limit=100');
    expect(page.statusCode, page.body).toBe(200);
    const urls = page
      .json()
      .events.map((event: { id: string; data: { url: string } }) => [event.id, event.data.url]);
    expect(urls).toEqual([
      ['st-ok', 'https://shop.example/a\u0000b'],
      ['st-data-surrogate', 'https://shop.example/\ud800'],
    ]);
  });

  it('stream events: data nested deeper than 128 levels refuses its event only (it was a 500)', async () => {
    // The clickstream contract with an open attribute: any array, of any nesting, is its value.
    const schema = CLICKSTREAM.schema as unknown as { properties: Record<string, unknown> };
    const open = {
      ...CLICKSTREAM,
      schema: { ...schema, properties: { ...schema.properties, extra: { type: 'array' } } },
    };
    const contract = await send('PUT', '/v1/contracts/open-stream', JSON.stringify(open));
    expect(contract.statusCode, contract.body).toBe(201);
    const event = (id: string, extra: string) =>
      `{"id":"${id}","contract":"open-stream@1","consent":["essential"],"at":"${AT}",` +
      `"data":{"sessionId":"os-1","customerId":"c-1","url":"https://shop.example/","extra":${extra}}}`;
    const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    const response = await send(
      'POST',
      '/v1/streams/events',
      `[${event('os-ok', '[[1]]')},${event('os-deep', deep)}]`,
    );
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      accepted: 1,
      rejected: [{ index: 1, reasons: [{ code: 'INVALID_ENVELOPE', path: 'data' }] }],
    });
  });

  it('consent import and request import: bad free text refuses its line only', async () => {
    const ndjson = [
      '{"subject":"u-ci-1","purposes":{"analytics":true},"notice":"n1"}',
      '{"subject":"u-ci-2","purposes":{"analytics":true},"notice":"n-\\u0000"}',
    ].join('\n');
    const consent = await send('POST', '/v1/consent/import', ndjson, 'application/x-ndjson');
    expect(consent.statusCode, consent.body).toBe(200);
    expect(consent.json()).toMatchObject({ recorded: 1, rejected: [{ line: 2, code: 'INVALID_CONSENT' }] });

    const csv =
      'id,type,subject,address\nri-ok,dsar,u-ri,\nri-bad,dsar,u-\u0000,\nri-bad-2,dsar,,Main St\u0000 1\n';
    const imported = await send('POST', '/v1/requests/import', csv, 'text/csv');
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({ created: [{ line: 2, id: 'ri-ok' }] });
    expect(imported.json().rejected.map((r: { line: number }) => r.line)).toEqual([3, 4]);
  });

  it('nesting is bounded: deeper than 128 levels is 400 VALIDATION_FAILED, not a 500 when stored', async () => {
    // A ticket's records are open objects: the schema lets any nesting through. 10,000 levels
    // made JSON.stringify overflow the stack when the records were stored.
    const complete = (depth: number, leaf: string) =>
      send(
        'POST',
        '/v1/requests/r-text/tasks/1/complete',
        `{"records":[{"fields":{"deep":${'['.repeat(depth)}${leaf}${']'.repeat(depth)}}}]}`,
      );
    const deep = await complete(200_000, '"a"');
    expect(deep.statusCode, deep.body).toBe(400);
    expect(deep.json().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'body' } });
    // The path is quoted, and cut short: the answer does not echo the nesting.
    expect(deep.json().error.details.path).toMatch(/^\/records\/0\/fields\/deep(\/0)+…$/);
    expect(deep.body.length).toBeLessThan(2_000);
    const nul = await complete(100, '"\\u0000"');
    expect(nul.statusCode, nul.body).toBe(400);
    expect(nul.json().error).toMatchObject({
      code: 'INVALID_TEXT',
      details: { path: `/records/0/fields/deep${'/0'.repeat(100)}` },
    });
  });
});

describe.runIf(available.some((backend) => backend.name === 'postgres'))(
  'defence in depth: PostgreSQL refusing text',
  () => {
    /** A real PostgreSQL error for NUL in text (22021) and in jsonb (22P05). */
    async function postgresError(text: string, cast: 'text' | 'jsonb'): Promise<Error> {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`select $1::${cast}`, [text]);
      } catch (error) {
        return error as Error;
      } finally {
        await client.end();
      }
      throw new Error('PostgreSQL took the text');
    }

    it('the shared error handler answers 400 INVALID_TEXT, not 500, also when AUDIT_FAILED wraps it', async () => {
      const failures = {
        text: await postgresError('a\u0000b', 'text'),
        jsonb: await postgresError('"a\\u0000b"', 'jsonb'),
      };
      expect(failures).toMatchObject({ text: { code: '22021' }, jsonb: { code: '22P05' } });
      const app = Fastify();
      app.setErrorHandler(handleError);
      app.get('/text', async () => Promise.reject(failures.text));
      app.get('/jsonb', async () => Promise.reject(failures.jsonb));
      app.get('/audit', async () =>
        Promise.reject(new AppError('AUDIT_FAILED', undefined, undefined, { cause: failures.text })),
      );
      app.get('/other', async () => Promise.reject(new Error('boom')));
      try {
        for (const url of ['/text', '/jsonb', '/audit']) {
          const response = await app.inject({ url });
          expect(response.statusCode, `${url}: ${response.body}`).toBe(400);
          expect(response.json().error.code).toBe('INVALID_TEXT');
        }
        expect((await app.inject({ url: '/other' })).statusCode).toBe(500);
      } finally {
        await app.close();
      }
    });
  },
);
