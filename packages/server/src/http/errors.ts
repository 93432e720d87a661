import { ERRORS, type ErrorBody, type ErrorCode } from '@lethe/api';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../lib/app-error.js';
import { answerHeaders } from './security-headers.js';
import { validationFailure } from './validation-message.js';

/** Maps every error to `{error: {code, message, requestId}}`; only unexpected ones are 500s (and logged). */
export function handleError(
  error: FastifyError | AppError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const { code, message, details } = classify(error);
  const status = ERRORS[code].status;
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  if (error instanceof AppError && error.retryAfterSeconds !== undefined) {
    reply.header('Retry-After', String(error.retryAfterSeconds));
  }
  const body: ErrorBody = {
    error: { code, message, requestId: String(request.id), ...(details !== undefined ? { details } : {}) },
  };
  return reply.status(status).send(body);
}

/**
 * Fastify's `frameworkErrors`: a malformed percent-escape or an over-long path parameter, met while
 * routing. There is no route yet, so no hook runs: the headers every answer carries are set here.
 */
export function handleFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  reply.headers(answerHeaders(String(request.id), request.url));
  // The reply is thenable, not a promise to wait on: Fastify sends it.
  void handleError(error, request, reply);
}

/**
 * Fastify's own errors, each as one of our codes. `says` keeps Fastify's message where it tells
 * more than ours (which mistake in the body); the others would echo the URL or say less.
 */
const FASTIFY_ERRORS: Readonly<Record<string, { code: ErrorCode; says?: true }>> = {
  FST_ERR_BAD_URL: { code: 'INVALID_URL' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'PATH_PARAM_TOO_LONG' },
  FST_ERR_NOT_FOUND: { code: 'ROUTE_NOT_FOUND' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', says: true },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', says: true },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', says: true },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'MALFORMED_REQUEST', says: true },
};

/**
 * PostgreSQL's codes for text it cannot store: NUL in a text value (22021, character not in
 * repertoire) and `\u0000` in jsonb (22P05, untranslatable character).
 */
const POSTGRES_INVALID_TEXT = new Set(['22021', '22P05']);

/**
 * Whether the error, or an error it wraps (`AUDIT_FAILED` wraps the store's), is PostgreSQL
 * refusing text. The text rule (`text-rule.ts`) keeps such text out; this is the defence in
 * depth for a path it misses: the client's input, so a 400, not a 500 or 503.
 */
function isInvalidText(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; depth += 1) {
    if (POSTGRES_INVALID_TEXT.has(String((cause as { code?: unknown }).code))) return true;
    cause = cause.cause;
  }
  return false;
}

function classify(error: FastifyError | AppError | Error): {
  code: ErrorCode;
  message: string;
  details?: unknown;
} {
  if (isInvalidText(error)) return { code: 'INVALID_TEXT', message: ERRORS.INVALID_TEXT.message };
  if (error instanceof AppError) return { code: error.code, message: error.message, details: error.details };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const failure = validationFailure(
      fastifyError.validation,
      fastifyError.validationContext,
      fastifyError.message,
    );
    return { code: 'VALIDATION_FAILED', ...failure };
  }
  const known = FASTIFY_ERRORS[fastifyError.code];
  if (known)
    return { code: known.code, message: known.says ? fastifyError.message : ERRORS[known.code].message };
  // Any other client error (a body stream cut off mid-way is one): the request, not the server.
  const status = fastifyError.statusCode ?? 500;
  const code = status >= 400 && status < 500 ? 'MALFORMED_REQUEST' : 'INTERNAL';
  return { code, message: ERRORS[code].message };
}

export function sendNotFound(request: FastifyRequest, reply: FastifyReply) {
  const body: ErrorBody = {
    error: {
      code: 'ROUTE_NOT_FOUND',
      message: `No route ${request.method} ${request.url.split('?')[0]}.`,
      requestId: String(request.id),
    },
  };
  return reply.status(404).send(body);
}
