import { ERRORS, type ErrorBody, type ErrorCode } from '@lethe/api';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../lib/app-error.js';

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

function classify(error: FastifyError | AppError | Error): {
  code: ErrorCode;
  message: string;
  details?: unknown;
} {
  if (error instanceof AppError) return { code: error.code, message: error.message, details: error.details };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return {
      code: 'VALIDATION_FAILED',
      message: fastifyError.message,
      details: fastifyError.validation.map((issue) => ({
        path: issue.instancePath,
        message: issue.message,
        ...(issue.keyword === 'additionalProperties' ? { property: issue.params['additionalProperty'] } : {}),
      })),
    };
  }
  switch (fastifyError.statusCode) {
    case 413:
      return { code: 'PAYLOAD_TOO_LARGE', message: ERRORS.PAYLOAD_TOO_LARGE.message };
    case 415:
      return { code: 'UNSUPPORTED_MEDIA_TYPE', message: fastifyError.message };
    case 400:
      return { code: 'INVALID_JSON', message: fastifyError.message };
    default:
      return { code: 'INTERNAL', message: ERRORS.INTERNAL.message };
  }
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
