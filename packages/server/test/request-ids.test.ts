import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logFormatFromEnv, loggerOptions, prettyLogStream } from '../src/http/logging.js';
import { isSafeRequestId, MAX_REQUEST_ID_LENGTH } from '../src/http/request-id.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids and trace context, end to end', () => {
  let lethe: Lethe;
  let url: string;
  let dispose: () => Promise<void>;
  const lines: string[] = [];
  const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    const location = await SQLITE_BACKEND.create({ migrated: true });
    lethe = await createLethe({
      ...location,
      rateLimit: false,
      logger: loggerOptions({ level: 'info', stream: { write: (line) => void lines.push(line) } }),
    });
    url = await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    dispose = async () => {
      await lethe.close();
      await location.dispose();
    };
  });
  afterAll(() => dispose());

  it("keeps a caller's safe x-request-id: answer header, every log line, error body", async () => {
    lines.length = 0;
    const id = 'edge-7f3a:01HZX3J9K2.retry=2';
    const response = await fetch(`${url}/v1/policies`, { headers: { 'x-request-id': id } });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-request-id')).toBe(id);
    expect(((await response.json()) as { error: { requestId: string } }).error.requestId).toBe(id);
    const mine = logged().filter((line) => line['reqId'] === id);
    expect(mine.map((line) => line['msg'])).toEqual(['incoming request', 'request completed']);
    expect(logged().filter((line) => line['reqId'] !== id)).toEqual([]);
  });

  it('replaces an unsafe or over-long x-request-id with a new UUID', async () => {
    for (const bad of ['has space', 'quote"d', 'semi;colon', 'x'.repeat(MAX_REQUEST_ID_LENGTH + 1), '']) {
      lines.length = 0;
      const response = await fetch(`${url}/healthz`, { headers: { 'x-request-id': bad } });
      const id = response.headers.get('x-request-id')!;
      expect(id, bad).toMatch(UUID);
      expect(logged().map((line) => line['reqId'])).toEqual([id, id]);
      expect(lines.join('\n')).not.toContain(bad || '"reqId":""');
    }
    // Without one, too; and each request has its own.
    const [a, b] = await Promise.all([fetch(`${url}/healthz`), fetch(`${url}/healthz`)]);
    expect(a.headers.get('x-request-id')).toMatch(UUID);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it("puts a valid traceparent's trace id on the request's log lines, and ignores invalid ones", async () => {
    lines.length = 0;
    const traced = await fetch(`${url}/healthz`, { headers: { traceparent: TRACEPARENT } });
    const id = traced.headers.get('x-request-id');
    expect(logged().filter((line) => line['reqId'] === id)).toEqual([
      expect.objectContaining({ traceId: TRACE_ID, msg: 'incoming request' }),
      expect.objectContaining({ traceId: TRACE_ID, msg: 'request completed' }),
    ]);
    for (const invalid of [
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, // all-zero trace id
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`, // all-zero parent id
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`, // version ff is invalid
      `00-${TRACE_ID}-00f067aa0ba902b7-01-extra`, // version 00 has exactly four fields
      `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`, // upper-case hex
      'not a traceparent',
    ]) {
      lines.length = 0;
      await fetch(`${url}/healthz`, { headers: { traceparent: invalid } });
      for (const line of logged()) expect(line, invalid).not.toHaveProperty('traceId');
    }
    // A later version keeps its first four fields and may add more.
    lines.length = 0;
    await fetch(`${url}/healthz`, { headers: { traceparent: `01-${TRACE_ID}-00f067aa0ba902b7-01-future` } });
    expect(logged()[0]).toMatchObject({ traceId: TRACE_ID });
  });

  it('writes JSON lines with ISO-8601 times and level names', async () => {
    lines.length = 0;
    await fetch(`${url}/healthz`);
    const [line] = logged();
    expect(line).toMatchObject({ level: 'info', msg: 'incoming request' });
    expect(new Date(line!['time'] as string).toISOString()).toBe(line!['time']);
  });
});

describe('log format', () => {
  it('is pretty on a terminal and JSON otherwise, unless LETHE_LOG_FORMAT says', () => {
    expect(logFormatFromEnv({}, true)).toBe('pretty');
    expect(logFormatFromEnv({}, false)).toBe('json');
    expect(logFormatFromEnv({ LETHE_LOG_FORMAT: '' }, false)).toBe('json');
    expect(logFormatFromEnv({ LETHE_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormatFromEnv({ LETHE_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(() => logFormatFromEnv({ LETHE_LOG_FORMAT: 'xml' }, false)).toThrow(
      'LETHE_LOG_FORMAT must be one of json, pretty, not "xml".',
    );
  });

  it('pretty: readable lines through pino-pretty, still scrubbed of tokens', async () => {
    let written = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const location = await SQLITE_BACKEND.create({ migrated: true });
    const lethe = await createLethe({
      ...location,
      logger: loggerOptions({
        format: 'pretty',
        stream: await prettyLogStream({ destination, colorize: false }),
      }),
    });
    try {
      const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
      lethe.app.log.info(`the server says hello with Bearer ${jwt}`);
      await new Promise((resolve) => setImmediate(resolve));
      const line = written.split('\n').find((text) => text.includes('the server says hello'));
      expect(line).toMatch(
        /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: the server says hello with Bearer \[REDACTED\]$/,
      );
    } finally {
      await lethe.close();
      await location.dispose();
    }
  });
});

describe('isSafeRequestId', () => {
  it('accepts UUIDs, ULIDs, hex and base64 ids, and nothing that could break a header or a log', () => {
    for (const id of [
      '0b5d1d5e-6c3f-4b7e-9d0a-2f8e7c6b5a49',
      '01HZX3J9K2M4N5P6Q7R8S9T0V1',
      'deadbeef',
      'YWJj+/==',
    ])
      expect(isSafeRequestId(id), id).toBe(true);
    for (const id of ['', 'a b', 'a\nb', 'a\\b', 'a"b', "a'b", 'a;b', 'a,b', 'é', 'x'.repeat(129)])
      expect(isSafeRequestId(id), id).toBe(false);
  });
});
