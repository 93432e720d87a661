import type { EventRejection, IngestResult } from '@lethe/api';
import { Type } from 'typebox';
import type { Services } from '../../services.js';
import { principalOf } from '../../http/authenticate.js';
import type { Metrics } from '../../http/metrics.js';
import type { TypedApp } from '../../http/typed-app.js';
import { AppError } from '../../lib/app-error.js';
import { DEFAULT_TELEMETRY_LIMITS } from '../telemetry-service.js';
import { decodeLogsRequest, encodeLogsResponse, type LogsResponse } from './otlp-protobuf.js';
import { NotOtlpLogs, usageEventsOfLogs, type RecordRefusal } from './otlp-logs.js';

/** Where an OpenTelemetry exporter sends logs: its `endpoint` is `<lethe>/v1/otlp` (docs/telemetry.md). */
export const OTLP_LOGS_PATH = '/v1/otlp/v1/logs';
const PROTOBUF = 'application/x-protobuf';
/** How many refusals the answer's errorMessage spells out; the count covers them all. */
const LISTED_REFUSALS = 20;

/**
 * OTLP/HTTP logs in (JSON or protobuf), usage events out: records with `privacy.*` attributes go
 * through `TelemetryService.ingest` like `POST /v1/events` (same checks, codes, scope, dedupe,
 * journal and audit) under the caller's token; the others are ignored and counted. Refused records
 * are counted in OTLP's `partialSuccess` with their index and code in its `errorMessage`.
 */
export function otlpRoutes(app: TypedApp, { telemetry }: Services, metrics: Metrics, bodyLimit: number) {
  app.addContentTypeParser(PROTOBUF, { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, decodeLogsRequest(body as Buffer));
    } catch (error) {
      const message = `The body is not an OTLP ExportLogsServiceRequest in protobuf: ${(error as Error).message}`;
      done(new AppError('VALIDATION_FAILED', message));
    }
  });
  app.post(
    OTLP_LOGS_PATH,
    {
      config: { action: 'events:publish', telemetry: true, textPerItem: true },
      bodyLimit,
      schema: {
        operationId: 'publishOtlpLogs',
        summary: 'Publish usage events as OpenTelemetry logs',
        tags: ['telemetry'],
        description:
          'OpenTelemetry logs (OTLP/HTTP, JSON or protobuf). Records with privacy.subject, privacy.policy, ' +
          'privacy.fields and privacy.system attributes become usage events; nothing else of a record is kept. ' +
          '200 means every accepted record is durable; refused ones are counted in partialSuccess.',
        body: {
          content: {
            'application/json': { schema: Type.Object({}, { additionalProperties: true }) },
            [PROTOBUF]: { schema: Type.Unknown() },
          },
        },
      },
    },
    async (request, reply) => {
      let mapped;
      try {
        mapped = usageEventsOfLogs(request.body);
      } catch (error) {
        if (error instanceof NotOtlpLogs) throw new AppError('VALIDATION_FAILED', error.message);
        throw error;
      }
      const principal = principalOf(request);
      const refused: RecordRefusal[] = [...mapped.refused];
      let accepted = 0;
      let duplicates = 0;
      // Slices the ingest takes in one go; each is durable on its own, and a retry of the whole
      // request finds the slices already stored as duplicates (every event has an id).
      const slice = DEFAULT_TELEMETRY_LIMITS.maxBatchEvents;
      for (let start = 0; start < mapped.events.length; start += slice) {
        const result: IngestResult = await telemetry.ingest(
          principal,
          mapped.events.slice(start, start + slice),
        );
        accepted += result.accepted;
        duplicates += result.duplicates;
        for (const rejection of result.rejected) refused.push(atRecord(rejection, mapped.recordOf, start));
      }
      metrics.otlpLogRecords.inc({ outcome: 'accepted' }, accepted);
      metrics.otlpLogRecords.inc({ outcome: 'duplicate' }, duplicates);
      metrics.otlpLogRecords.inc({ outcome: 'rejected' }, refused.length);
      metrics.otlpLogRecords.inc({ outcome: 'ignored' }, mapped.ignored);
      for (const refusal of refused) metrics.eventsRejected.inc({ code: refusal.code });
      const answer = responseOf(refused);
      reply.header('lethe-ignored-records', String(mapped.ignored));
      if (request.headers['content-type']?.toLowerCase().startsWith(PROTOBUF)) {
        return reply.type(PROTOBUF).send(Buffer.from(encodeLogsResponse(answer)));
      }
      return answer;
    },
  );
}

function atRecord(rejection: EventRejection, recordOf: readonly number[], start: number): RecordRefusal {
  return { index: recordOf[start + rejection.index] ?? -1, code: rejection.code, message: rejection.message };
}

/** OTLP's answer: no partialSuccess when all went in, else the count and which records, why. */
function responseOf(refused: RecordRefusal[]): LogsResponse {
  if (refused.length === 0) return {};
  refused.sort((a, b) => a.index - b.index);
  const listed = refused
    .slice(0, LISTED_REFUSALS)
    .map((refusal) => `record ${refusal.index}: ${refusal.code}: ${refusal.message}`);
  if (refused.length > LISTED_REFUSALS) listed.push(`and ${refused.length - LISTED_REFUSALS} more`);
  return { partialSuccess: { rejectedLogRecords: refused.length, errorMessage: listed.join('; ') } };
}
