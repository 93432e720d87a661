import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The longest incoming `x-request-id` kept; a longer one is replaced (it is logged on every line). */
export const MAX_REQUEST_ID_LENGTH = 128;

/**
 * Characters an incoming request id may use: what proxies and platforms generate (UUIDs, ULIDs,
 * hex, base64, dotted or colon-separated ids). Nothing that could break a header, a log line or a
 * JSON string: no space, quote, backslash, semicolon or control character.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:+=@/-]+$/;

/** Whether an incoming `x-request-id` is kept as the request's id. */
export function isSafeRequestId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_REQUEST_ID_LENGTH && SAFE_REQUEST_ID.test(value);
}

/**
 * Fastify's `genReqId`: the caller's `x-request-id` when it is safe, so that a proxy's or a
 * client's id ties their logs to ours; else a new UUID. The id is echoed in the `x-request-id`
 * answer header, in every log line of the request (`reqId`) and in error bodies (`requestId`).
 */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && isSafeRequestId(incoming) ? incoming : randomUUID();
}

/** A W3C trace context `traceparent` (version 00; later versions keep its first four fields). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The trace id of a valid `traceparent` header, for the request's log lines: logs join the
 * caller's trace even when Lethe's own tracing is off. Invalid ones (all-zero ids, version ff,
 * a version-00 header with extra fields) are ignored, as the W3C specification says.
 */
export function traceIdOf(request: IncomingMessage): string | undefined {
  const header = request.headers['traceparent'];
  if (typeof header !== 'string') return undefined;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return undefined;
  const [, version, traceId, parentId, , rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return undefined;
  return traceId;
}
