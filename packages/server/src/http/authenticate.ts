import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import type { Tokens } from '../auth/tokens.js';
import { AppError } from '../lib/app-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook on every `/v1` route. */
    principal: Principal;
  }
}

/** Turns the bearer token into the request's principal, or answers 401 with the reason. */
export function authenticate(tokens: Tokens) {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (!header) throw new AppError('TOKEN_MISSING');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new AppError('TOKEN_MISSING', 'Use "Authorization: Bearer <token>".');
    // The request id travels with the principal into the services and their audit entries.
    request.principal = { ...(await tokens.verify(match[1])), requestId: String(request.id) };
  };
}

/** The principal of an authenticated request; a route outside `/v1` asking for one is a bug. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('principal requested on an unauthenticated route');
  return request.principal;
}
