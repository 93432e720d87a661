import { Type, type Static } from 'typebox';
import { Instant, Name, SubjectId } from './common.js';

const strict = { additionalProperties: false } as const;

/**
 * A legal hold (docs/retention.md "Legal holds"): while it stands, the data it covers is not to be
 * deleted, whatever its expiry. Its scope is the intersection of the lists given (a field is held
 * when its subject, system, categories and deciding policy each match the list of that kind, when
 * there is one); a hold without any list covers everything Lethe knows.
 */
export const HoldInput = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 2_000, description: 'why: the matter, case or inquiry' }),
    subjects: Type.Optional(Type.Array(SubjectId, { minItems: 1, maxItems: 10_000 })),
    systems: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1_000 })),
    categories: Type.Optional(
      Type.Array(Type.String({ maxLength: 200 }), {
        minItems: 1,
        maxItems: 1_000,
        description: 'data category keys; a key covers the keys below it',
      }),
    ),
    policies: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: 1_000 })),
    /** When the hold should be reviewed (advisory: it does not end by itself). */
    reviewAt: Type.Optional(Instant),
  },
  strict,
);
export type HoldInput = Static<typeof HoldInput>;

export const Hold = Type.Object({
  name: Type.String(),
  reason: Type.String(),
  subjects: Type.Optional(Type.Array(Type.String())),
  systems: Type.Optional(Type.Array(Type.String())),
  categories: Type.Optional(Type.Array(Type.String())),
  policies: Type.Optional(Type.Array(Type.String())),
  reviewAt: Type.Optional(Instant),
  createdAt: Instant,
  createdBy: Type.String(),
  updatedAt: Instant,
  updatedBy: Type.String(),
});
export type Hold = Static<typeof Hold>;

/** What a held field shows in the subject view: which hold, why, who placed it and since when. */
export const HoldMark = Type.Object({
  name: Type.String(),
  reason: Type.String(),
  by: Type.String(),
  since: Instant,
});
export type HoldMark = Static<typeof HoldMark>;

export const HoldList = Type.Object({ items: Type.Array(Hold) });
export type HoldList = Static<typeof HoldList>;
