import { Jwks, KeyRotation, KeyRotationInput } from '@lethe/api';
import type { RotationResult } from '../auth/signing-keys.js';
import { toIso } from '../lib/time.js';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

/** Verifiers may cache the key set this long; a revocation reaches them within it. */
const JWKS_MAX_AGE_SECONDS = 60;

/**
 * `GET /.well-known/jwks.json`, outside `/v1` and unauthenticated: the public halves of every key
 * whose tokens verify now, for rights clients checking call tokens and anyone checking Lethe's
 * tokens or signed audit checkpoints.
 */
export function jwksRoute(app: TypedApp, { keys }: Services) {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        operationId: 'getJwks',
        summary: "The public keys of Lethe's tokens (JWKS)",
        tags: ['keys'],
        description:
          "The public keys of Lethe's own tokens (RFC 7517); retired keys until their tokens expire.",
        security: [],
        response: { 200: Jwks },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
      return keys.jwks();
    },
  );
}

export function keyRoutes(app: TypedApp, { keys }: Services) {
  app.post(
    '/v1/keys/rotate',
    {
      config: { action: 'keys:rotate' },
      schema: {
        operationId: 'rotateSigningKey',
        summary: 'Rotate the token signing key',
        tags: ['keys'],
        description:
          'A new key signs from now on; the previous one verifies its tokens until they expire, or not ' +
          'at all with `revokePrevious` (suspected leak). Its private half is destroyed either way.',
        body: KeyRotationInput,
        response: { 200: KeyRotation },
      },
      // A bare `POST` (no body) means `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) =>
      rotationToApi(
        await keys.rotate(principalOf(request), { revokePrevious: request.body.revokePrevious ?? false }),
      ),
  );
}

function rotationToApi(result: RotationResult): KeyRotation {
  return {
    kid: result.kid,
    createdAt: toIso(result.createdAt),
    ...(result.previous
      ? {
          previous: {
            kid: result.previous.kid,
            verifiesUntil: toIso(result.previous.verifiesUntil),
            revoked: result.previous.revoked,
          },
        }
      : {}),
  };
}
