import type { FastifyRequest, RouteOptions } from 'fastify';
import { AppError } from '../lib/app-error.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The body types a route takes when its body schema does not name them (a CSV or NDJSON text). */
    contentTypes?: readonly string[];
  }
}

/**
 * One content-type policy for every route that takes a body: the types its body schema names
 * (`schema.body.content`, or JSON for a plain body schema) are the only ones it parses. Anything
 * else is 415 before the handler runs, and a missing body is 400 (`config.contentTypes` names the
 * types where the schema cannot): without this a `text/plain` body reached handlers that expect an
 * object and failed as a 500.
 */
export function contentTypePolicy(route: RouteOptions): void {
  const accepted = route.config?.contentTypes ?? acceptedTypes(route.schema?.body);
  if (accepted === undefined) return;
  const check = async (request: FastifyRequest) => {
    const header = request.headers['content-type'];
    const type = header?.split(';')[0]?.trim().toLowerCase();
    if (type !== undefined && type !== '' && !accepted.includes(type)) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `This route takes ${accepted.join(' or ')}, not ${type}.`);
    }
    // An empty text (a CSV with no rows) is a body; an absent one is not.
    if (request.body === undefined || request.body === null) {
      throw new AppError('VALIDATION_FAILED', `A body is required (${accepted.join(' or ')}).`);
    }
  };
  // After the route's own hooks: one may give a bare request its default body (`POST /v1/keys/rotate`).
  const existing = route.preValidation;
  route.preValidation = existing === undefined ? [check] : [...[existing].flat(), check];
}

function acceptedTypes(body: unknown): readonly string[] | undefined {
  if (body === undefined || body === null || typeof body !== 'object') return undefined;
  const content = (body as { content?: unknown }).content;
  if (content !== undefined && content !== null && typeof content === 'object') return Object.keys(content);
  return ['application/json'];
}
