import type { SubjectRetention } from '@lethe/api';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { availableBackends, type Backend } from './support/backends.js';
import { loadFixtures } from './support/fixtures.js';

/**
 * OTLP/HTTP logs into usage events, with requests made by OpenTelemetry's own encoders (the JS
 * SDK's exporters use them): records with privacy.* attributes become uses, the others are
 * ignored and counted, bad ones are refused by index in OTLP's partialSuccess; the token's scope
 * holds; nothing of a record but its privacy.* attributes reaches the store.
 */

const backends = await availableBackends();
const URL_PATH = '/v1/otlp/v1/logs';
const SECRET = 'jane.secret@mail.example';
const T0 = Date.parse('2026-01-01T00:00:00Z');

function record(
  attributes: Record<string, unknown>,
  n: number,
  resource: Record<string, string> = { 'service.name': 'accounts-api', 'privacy.system': 'accounts' },
): ReadableLogRecord {
  const ms = T0 + n * 1_000;
  return {
    hrTime: [Math.floor(ms / 1000), (ms % 1000) * 1e6 + n],
    hrTimeObserved: [Math.floor(ms / 1000) + 1, 0],
    body: `user ${SECRET} signed in`,
    severityText: 'INFO',
    resource: resourceFromAttributes(resource),
    instrumentationScope: { name: 'lethe-test' },
    attributes: { 'user.email': SECRET, ...attributes },
    droppedAttributesCount: 0,
  };
}

const use = (subject: string, extra: Record<string, unknown> = {}) => ({
  'privacy.subject': subject,
  'privacy.policy': 'user-account-access',
  'privacy.fields': ['accounts.email'],
  ...extra,
});

describe.each(backends.map((backend) => [backend.name, backend] as const))(
  'OTLP logs (%s)',
  (_name, backend: Backend) => {
    let lethe: Lethe;
    let location: Awaited<ReturnType<Backend['create']>>;
    let admin: string;
    let accounts: string;

    beforeAll(async () => {
      location = await backend.create({ migrated: true });
      lethe = await createLethe({ ...location, rateLimit: false });
      await loadFixtures(lethe.services);
      admin = (await lethe.tokens.mint({ subject: 'test-admin', role: 'admin', ttlSeconds: 600 })).token;
      accounts = (
        await lethe.tokens.mint({
          subject: 'svc-accounts',
          role: 'service',
          system: 'accounts',
          ttlSeconds: 600,
        })
      ).token;
    });
    afterAll(async () => {
      await lethe.close();
      await location.dispose();
    });

    const post = (body: Uint8Array | string, type: string, token: string | undefined = accounts) =>
      lethe.app.inject({
        method: 'POST',
        url: URL_PATH,
        headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        payload: Buffer.from(body),
      });

    async function uses(subject: string): Promise<number> {
      const response = await lethe.app.inject({
        method: 'GET',
        url: `/v1/subjects/${subject}`,
        headers: { authorization: `Bearer ${admin}` },
      });
      if (response.statusCode === 404) return 0;
      return response
        .json<SubjectRetention>()
        .fields.flatMap((field) => field.uses)
        .reduce((sum, one) => sum + one.count, 0);
    }

    it('maps good records, ignores those without privacy.*, refuses bad ones by index (JSON)', async () => {
      const records = [
        record(use('otlp-1'), 1),
        record({}, 2), // an ordinary log line: ignored
        record(use('otlp-2', { 'privacy.policy': 'no-such-policy' }), 3),
        record(use('otlp-3', { 'privacy.fields': 'accounts.email, accounts.name' }), 4),
        record({ 'privacy.subject': 'otlp-4' }, 5), // no policy, no fields
        record(use('otlp-5', { 'privacy.system': 'orders' }), 6), // this token is for accounts only
      ];
      const response = await post(JsonLogsSerializer.serializeRequest(records)!, 'application/json');
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['lethe-ignored-records']).toBe('1');
      const { partialSuccess } = response.json<{
        partialSuccess: { rejectedLogRecords: number; errorMessage: string };
      }>();
      expect(partialSuccess.rejectedLogRecords).toBe(3);
      expect(partialSuccess.errorMessage).toMatch(
        /^record 2: POLICY_NOT_FOUND: .*; record 4: INVALID_EVENT: .*; record 5: SYSTEM_NOT_PERMITTED: /,
      );
      expect(await uses('otlp-1')).toBe(1);
      expect(await uses('otlp-3')).toBe(2);
      for (const subject of ['otlp-2', 'otlp-4', 'otlp-5']) expect(await uses(subject)).toBe(0);
      const view = await lethe.app.inject({
        method: 'GET',
        url: '/v1/subjects/otlp-1',
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(view.json<SubjectRetention>().fields[0]).toMatchObject({
        field: 'accounts.email',
        system: 'accounts',
        lastUseAt: new Date(T0 + 1_000).toISOString(),
      });

      // A retry of the same request (the exporter's answer was lost) counts nothing twice.
      const retry = await post(JsonLogsSerializer.serializeRequest(records)!, 'application/json');
      expect(retry.statusCode).toBe(200);
      expect(await uses('otlp-1')).toBe(1);
      expect(await uses('otlp-3')).toBe(2);
      const metrics = (await lethe.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^lethe_otlp_log_records_total\{outcome="duplicate"\} 2$/m);
    });

    it('takes protobuf, as the Collector sends it by default, and answers in protobuf', async () => {
      const records = [
        record(use('otlp-pb-1'), 10),
        record({}, 11),
        record(use('otlp-pb-2', { 'privacy.policy': 'nope' }), 12),
      ];
      const response = await post(
        ProtobufLogsSerializer.serializeRequest(records)!,
        'application/x-protobuf',
      );
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/x-protobuf/);
      const answer = ProtobufLogsSerializer.deserializeResponse(new Uint8Array(response.rawPayload));
      expect(Number(answer.partialSuccess?.rejectedLogRecords)).toBe(1);
      expect(answer.partialSuccess?.errorMessage).toMatch(/^record 2: POLICY_NOT_FOUND/);
      expect(await uses('otlp-pb-1')).toBe(1);
    });

    it('keeps nothing of a record but its privacy.* attributes', async () => {
      const response = await post(
        JsonLogsSerializer.serializeRequest([record(use('otlp-secret'), 20)])!,
        'application/json',
      );
      expect(response.statusCode).toBe(200);
      expect(await uses('otlp-secret')).toBe(1);
      const entries = await lethe.services.store.repository.audit.entries(0, 10_000);
      expect(JSON.stringify(entries)).not.toContain(SECRET);
      if (backend.name === 'sqlite') {
        // Every byte SQLite wrote: the database and its write-ahead log.
        for (const file of readdirSync(location.dataDir)) {
          if (!file.includes('.db') && !file.endsWith('-wal') && !file.endsWith('.sqlite')) continue;
          expect(readFileSync(join(location.dataDir, file)).includes(SECRET), file).toBe(false);
        }
      }
    });

    it('refuses what is not an OTLP logs request, and a request without a token', async () => {
      const garbage = await post(new Uint8Array([0xff, 0xff, 0xff, 0x0f]), 'application/x-protobuf');
      expect(garbage.statusCode).toBe(400);
      expect(garbage.json().error.code).toBe('VALIDATION_FAILED');
      const notLogs = await post(JSON.stringify({ resourceLogs: 5 }), 'application/json');
      expect(notLogs.statusCode).toBe(400);
      expect(notLogs.json().error.code).toBe('VALIDATION_FAILED');
      const anonymous = await post(JSON.stringify({ resourceLogs: [] }), 'application/json', '');
      expect(anonymous.statusCode).toBe(401);
      const text = await post('hello', 'text/plain');
      expect(text.statusCode).toBe(415);
    });

    it('refuses a record without a time by its index, from a hand-written OTLP/JSON request', async () => {
      const attributes = (subject: string) => [
        { key: 'privacy.subject', value: { stringValue: subject } },
        { key: 'privacy.system', value: { stringValue: 'accounts' } },
        { key: 'privacy.policy', value: { stringValue: 'user-account-access' } },
        { key: 'privacy.fields', value: { arrayValue: { values: [{ stringValue: 'accounts.email' }] } } },
      ];
      const body = {
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: [
                  { timeUnixNano: '0', attributes: attributes('otlp-nt-1') },
                  {
                    observedTimeUnixNano: String(BigInt(T0) * 1_000_000n),
                    attributes: attributes('otlp-nt-2'),
                  },
                ],
              },
            ],
          },
        ],
      };
      const response = await post(JSON.stringify(body), 'application/json');
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().partialSuccess).toMatchObject({ rejectedLogRecords: 1 });
      expect(response.json().partialSuccess.errorMessage).toMatch(/^record 0: INVALID_TIME/);
      expect(await uses('otlp-nt-2')).toBe(1);
    });
  },
);
