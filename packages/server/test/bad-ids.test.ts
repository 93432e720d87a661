import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { availableBackends } from './support/backends.js';
import { loadFixtures } from './support/fixtures.js';
import { CLICKSTREAM } from './support/privacy-streams-harness.js';

/**
 * One rule for ids (issue 16, findings 5 and 9): an id with a lone surrogate or a control
 * character is refused where it enters (HTTP JSON and NDJSON, CSV, path and query), in a batch
 * only the event or line that carries it. Bodies are written by hand: `\\ud800` stays a JSON
 * escape that the server's JSON.parse turns into a lone surrogate. NATS: bad-ids-nats.test.ts.
 */

// PostgreSQL is required in CI (availableBackends throws there when it is missing).
const available = await availableBackends();
const AT = new Date(Date.now() - 3_600_000).toISOString();

/** Lone surrogates (high and low), C0, DEL and C1 controls, as JSON escapes. */
const BAD_IDS = ['u-\\ud800', 'u-\\udc00', 'u-\\u0000', 'u-\\u0007', 'u-\\u007f', 'u-\\u0085'];

const usage = (id: string, subject: string) =>
  `{"id":"${id}","subject":"${subject}","system":"accounts","policy":"user-account-access",` +
  `"fields":["accounts.email"],"at":"${AT}"}`;

const click = (id: string, session: string, customer: string) =>
  `{"id":"${id}","contract":"clickstream@1","consent":["essential"],"at":"${AT}",` +
  `"data":{"sessionId":"${session}","customerId":"${customer}","url":"https://shop.example/"}}`;

describe.each(available)('bad ids: $name', (backend) => {
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
    const put = await send('PUT', '/v1/contracts/clickstream', JSON.stringify(CLICKSTREAM));
    expect(put.statusCode, put.body).toBe(201);
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

  const codes = (rejected: { index: number; code: string }[]) => rejected.map((r) => [r.index, r.code]);

  it('usage events (JSON): a bad subject or id is INVALID_EVENT on its own; the rest is stored', async () => {
    const events = [
      usage('json-ok', 'u-json'),
      ...BAD_IDS.map((subject, n) => usage(`json-bad-${n}`, subject)),
      usage('json-\\udbff', 'u-json'),
    ];
    const response = await send('POST', '/v1/events', `{"events":[${events.join(',')}]}`);
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json();
    expect(result.accepted).toBe(1);
    expect(codes(result.rejected)).toEqual(events.slice(1).map((_, n) => [n + 1, 'INVALID_EVENT']));
    expect(result.rejected[0].message).toBe(
      '/subject: holds U+D800, a lone surrogate (not valid Unicode text)',
    );
    expect(result.rejected[3].message).toBe('/subject: holds U+0007, a control character');
    expect(result.rejected.at(-1).message).toMatch(/^\/id: holds U\+DBFF/);
    // What went in can be read back by its id.
    const subject = await send('GET', '/v1/subjects/u-json');
    expect(subject.statusCode, subject.body).toBe(200);
    expect(subject.json().fields).toHaveLength(1);
  });

  it('usage events (NDJSON): the same, line by line', async () => {
    const lines = [usage('nd-ok', 'u-ndjson'), usage('nd-bad', 'u-\\ud800'), usage('nd-\\u0000', 'u-ndjson')];
    const response = await send('POST', '/v1/events', lines.join('\n'), 'application/x-ndjson');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(codes(response.json().rejected)).toEqual([
      [1, 'INVALID_EVENT'],
      [2, 'INVALID_EVENT'],
    ]);
  });

  it('stream events (JSON): a bad key link, subject or id refuses that event only, never the batch', async () => {
    const events = [
      click('s-ok', 'session-1', 'c-1'),
      click('s-key-link', 's-\\ud800', 'c-1'),
      click('s-key-link-nul', 's-\\u0000', 'c-1'),
      click('s-subject', 'session-1', 'c-\\udfff'),
      click('s-\\ud800', 'session-1', 'c-1'),
      click('s-both', 's-\\u001b', 'c-\\u009f'),
    ];
    const response = await send('POST', '/v1/streams/events', `[${events.join(',')}]`);
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json();
    expect(result.accepted).toBe(1);
    const reasons = result.rejected.map((r: { index: number; reasons: object[] }) => [
      r.index,
      r.reasons.map((reason) =>
        Object.values(reason)
          .slice(0, 2)
          .concat((reason as { rule?: string }).rule),
      ),
    ]);
    expect(reasons).toEqual([
      [1, [['RULE_VIOLATION', 'data.sessionId', 'id']]],
      [2, [['RULE_VIOLATION', 'data.sessionId', 'id']]],
      [3, [['RULE_VIOLATION', 'data.customerId', 'id']]],
      [4, [['INVALID_ENVELOPE', 'id', undefined]]],
      [
        5,
        [
          ['RULE_VIOLATION', 'data.sessionId', 'id'],
          ['RULE_VIOLATION', 'data.customerId', 'id'],
        ],
      ],
    ]);
    expect(result.rejected[0].reasons[0].message).toBe(
      'data.sessionId (the key link) holds U+D800, a lone surrogate (not valid Unicode text).',
    );
    const page = await send('GET', '/v1/streams/events?limit=100');
    expect(page.json().events.map((event: { id: string }) => event.id)).toEqual(['s-ok']);
  });

  it('stream events (NDJSON): the same, line by line', async () => {
    const lines = [click('nd-s-ok', 'session-2', 'c-2'), click('nd-s-bad', 's-\\udbff', 'c-2')];
    const response = await send('POST', '/v1/streams/events', lines.join('\n'), 'application/x-ndjson');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ accepted: 1, rejected: [{ index: 1, id: 'nd-s-bad' }] });
  });

  /** Every route the OpenAPI document gives a `{subject}` path parameter, per method. */
  function subjectRoutes(): { method: string; path: string }[] {
    const document = lethe.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    return Object.entries(document.paths)
      .filter(([path]) => path.includes('{subject}'))
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => ({ method, path })));
  }

  it('a subject path parameter: control characters are 400 VALIDATION_FAILED on every route', async () => {
    const routes = subjectRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(6);
    for (const { method, path } of routes) {
      for (const encoded of ['u-%00', 'u-%07', 'u-%7F', 'u-%C2%85']) {
        const url = path.replace('{subject}', encoded);
        const body = method === 'get' || method === 'delete' ? undefined : '{}';
        const response = await send(method.toUpperCase(), url, body);
        const where = `${method} ${url}: ${response.body}`;
        expect(response.statusCode, where).toBe(400);
        expect(response.json().error.code, where).toBe('VALIDATION_FAILED');
      }
      // A lone surrogate cannot even be percent-encoded: its UTF-8 form does not exist.
      const surrogate = await send(method.toUpperCase(), path.replace('{subject}', 'u-%ED%A0%80'));
      expect(surrogate.statusCode, `${method} ${path}: ${surrogate.body}`).toBe(400);
    }
  });

  it('a subject query parameter: the same rule', async () => {
    const response = await send('GET', '/v1/consent/violations?subject=u-%01');
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('consent import: a bad subject refuses its line (NDJSON and CSV), the others are recorded', async () => {
    const line = (subject: string) => `{"subject":"${subject}","purposes":{"marketing.email":true}}`;
    const ndjson = [line('u-consent-1'), line('u-\\ud800'), line('u-\\u0001')].join('\n');
    const fromNdjson = await send('POST', '/v1/consent/import', ndjson, 'application/x-ndjson');
    expect(fromNdjson.statusCode, fromNdjson.body).toBe(200);
    expect(fromNdjson.json()).toMatchObject({
      recorded: 1,
      rejected: [
        {
          line: 2,
          code: 'INVALID_CONSENT',
          message: '/subject: holds U+D800, a lone surrogate (not valid Unicode text)',
        },
        { line: 3, code: 'INVALID_CONSENT' },
      ],
    });

    const csv = 'subject,purpose,granted\nu-consent-2,marketing.email,true\nu-\u0001,marketing.email,true\n';
    const fromCsv = await send('POST', '/v1/consent/import', csv, 'text/csv');
    expect(fromCsv.statusCode, fromCsv.body).toBe(200);
    expect(fromCsv.json()).toMatchObject({
      recorded: 1,
      rejected: [
        {
          line: 3,
          column: 'subject',
          code: 'INVALID_CONSENT',
          message: '/subject: holds U+0001, a control character',
        },
      ],
    });
  });

  it('consent proof texts: NUL or a lone surrogate is a 400 on a PUT and refuses only its import line', async () => {
    for (const notice of ['n-\\u0000', 'n-\\ud800']) {
      const put = await send(
        'PUT',
        '/v1/subjects/u-proof/consent',
        `{"purposes":{"analytics":true},"notice":"${notice}"}`,
      );
      expect(put.statusCode, put.body).toBe(400);
      expect(put.json().error.code).toBe('VALIDATION_FAILED');
    }
    const ndjson = [
      '{"subject":"u-proof-1","purposes":{"analytics":true},"source":"shop\\nfront"}',
      '{"subject":"u-proof-2","purposes":{"analytics":true},"source":"s-\\u0000"}',
    ].join('\n');
    const fromNdjson = await send('POST', '/v1/consent/import', ndjson, 'application/x-ndjson');
    expect(fromNdjson.statusCode, fromNdjson.body).toBe(200);
    expect(fromNdjson.json()).toMatchObject({
      recorded: 1,
      rejected: [{ line: 2, code: 'INVALID_CONSENT', message: '/source: holds U+0000, a control character' }],
    });
    const csv =
      'subject,purpose,granted,notice_version\nu-proof-3,analytics,true,v1\nu-proof-4,analytics,true,v\u0000\n';
    const fromCsv = await send('POST', '/v1/consent/import', csv, 'text/csv');
    expect(fromCsv.statusCode, fromCsv.body).toBe(200);
    expect(fromCsv.json()).toMatchObject({
      recorded: 1,
      rejected: [{ line: 3, column: 'notice_version', code: 'INVALID_CONSENT' }],
    });
  });

  it('rights requests: identifiers follow the rule over HTTP and in a CSV import', async () => {
    const bySubject = await send(
      'POST',
      '/v1/requests',
      '{"type":"dsar","identifiers":{"subject":"u-\\ud800"}}',
    );
    expect(bySubject.statusCode, bySubject.body).toBe(400);
    expect(bySubject.json().error.code).toBe('VALIDATION_FAILED');
    const byEmail = await send(
      'POST',
      '/v1/requests',
      '{"type":"dsar","identifiers":{"email":"a\\ud800@b.example"}}',
    );
    expect(byEmail.statusCode, byEmail.body).toBe(400);
    // A lone surrogate breaks the text rule every string of a body keeps (bad-text.test.ts)…
    expect(byEmail.json().error).toMatchObject({
      code: 'INVALID_TEXT',
      details: { in: 'body', path: '/identifiers/email' },
    });
    // …a control character only the identifier rule.
    const byEmailControl = await send(
      'POST',
      '/v1/requests',
      '{"type":"dsar","identifiers":{"email":"a\\u0001@b.example"}}',
    );
    expect(byEmailControl.statusCode, byEmailControl.body).toBe(400);
    expect(byEmailControl.json().error).toMatchObject({
      code: 'INVALID_IDENTIFIER',
      details: { field: 'identifiers.email' },
    });

    const csv = 'id,type,subject,custom_key\nr-ok,dsar,u-ok,\nr-bad,dsar,,k-\u0002\nr-\u0001,dsar,u-ok-2,\n';
    const imported = await send('POST', '/v1/requests/import', csv, 'text/csv');
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({
      created: [{ line: 2, id: 'r-ok' }],
      rejected: [
        { line: 3, column: 'custom_key', code: 'INVALID_IDENTIFIER' },
        // A request id is a name, as `/v1/requests/{id}` takes it: else no route could reach it.
        { line: 4, column: 'id', code: 'VALIDATION_FAILED' },
      ],
    });
  });
});
