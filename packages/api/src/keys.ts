/** Lethe's signing keys: their rotation and the public key set (JWKS). */
import { Type, type Static } from 'typebox';
import { Instant } from './common.js';

const strict = { additionalProperties: false } as const;

export const KeyRotationInput = Type.Object(
  {
    revokePrevious: Type.Optional(
      Type.Boolean({
        description: 'the previous key stops verifying at once (suspected leak); its tokens are refused',
      }),
    ),
  },
  strict,
);
export type KeyRotationInput = Static<typeof KeyRotationInput>;

export const KeyRotation = Type.Object({
  kid: Type.String({ description: 'the key that signs from now on' }),
  createdAt: Instant,
  previous: Type.Optional(
    Type.Object({
      kid: Type.String(),
      verifiesUntil: Instant,
      revoked: Type.Boolean(),
    }),
  ),
});
export type KeyRotation = Static<typeof KeyRotation>;

/** A public signing key (RFC 7517); key-type members (`kty`, `crv`, `x`, …) pass through. */
export const PublicJwk = Type.Object(
  {
    kty: Type.String(),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.Literal('sig'),
  },
  { additionalProperties: Type.String() },
);
export const Jwks = Type.Object({ keys: Type.Array(PublicJwk) });
export type Jwks = Static<typeof Jwks>;
