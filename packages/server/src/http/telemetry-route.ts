import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A telemetry route (`POST /v1/events`, `POST /v1/streams/events`): the ingest hot path, where a
     * publisher sends many requests of many events. Its per-request log lines are written at
     * `debug`, not `info` (`RequestLogController`), and the rate limit counts its events in a
     * bucket of their own instead of its requests (`eventRateLimit`).
     */
    telemetry?: boolean;
  }
}

export function isTelemetryRoute(request: FastifyRequest): boolean {
  // A request refused before routing (a malformed URL) has no route options yet.
  return request.routeOptions?.config?.telemetry === true;
}

/**
 * The events a telemetry body carries: `{"events": [...]}`, a JSON array or NDJSON lines, or an
 * OTLP logs request's records (`{"resourceLogs": [...]}`, protobuf decoded to the same shape).
 */
export function eventsIn(body: unknown): number {
  if (Array.isArray(body)) return body.length;
  const events = (body as { events?: unknown } | null | undefined)?.events;
  if (Array.isArray(events)) return events.length;
  const resourceLogs = (body as { resourceLogs?: unknown } | null | undefined)?.resourceLogs;
  return Array.isArray(resourceLogs) ? Math.max(1, logRecordsIn(resourceLogs)) : 1;
}

function logRecordsIn(resourceLogs: unknown[]): number {
  let records = 0;
  for (const resource of resourceLogs) {
    const scopes = (resource as { scopeLogs?: unknown } | null)?.scopeLogs;
    for (const scope of Array.isArray(scopes) ? scopes : []) {
      const logRecords = (scope as { logRecords?: unknown } | null)?.logRecords;
      if (Array.isArray(logRecords)) records += logRecords.length;
    }
  }
  return records;
}
