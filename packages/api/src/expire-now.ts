import { Type, type Static } from 'typebox';
import { Instant } from './common.js';

const strict = { additionalProperties: false } as const;

/**
 * Expire now (docs/retention.md "Expire now"): a DPO's decision that a subject's fields are due
 * at once, without a full rights request. Without `fields`: every field of the subject the token
 * may see.
 */
export const ExpireNowInput = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 2_000, description: 'why the data goes now' }),
    fields: Type.Optional(
      Type.Array(Type.String({ maxLength: 400 }), {
        minItems: 1,
        maxItems: 10_000,
        description: 'dataset.field names; without: every field of the subject',
      }),
    ),
  },
  strict,
);
export type ExpireNowInput = Static<typeof ExpireNowInput>;

/** What an expired-now field shows in the subject view: when, why and who decided it. */
export const ExpireNowMark = Type.Object({
  at: Instant,
  reason: Type.String(),
  by: Type.String(),
});
export type ExpireNowMark = Static<typeof ExpireNowMark>;

export const ExpireNowResult = Type.Object({
  subject: Type.String(),
  /** The fields the decision covers, each now due at `expiresAt` or earlier. */
  fields: Type.Array(Type.Object({ field: Type.String(), expiresAt: Instant })),
  /** The subject's expiry after the decision (its fields' latest). */
  expiresAt: Instant,
  decidedAt: Instant,
});
export type ExpireNowResult = Static<typeof ExpireNowResult>;
