/** The declared data map: teams, flows, rights clients, the organisation and the taxonomy. */
import { Type, type Static } from 'typebox';
import { Instant, Literals, Name } from './common.js';

const strict = { additionalProperties: false } as const;

export const TeamInput = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    /** Who to ask: an email address or a channel. */
    contact: Type.Optional(Type.String({ maxLength: 256 })),
  },
  strict,
);
export type TeamInput = Static<typeof TeamInput>;
export const Team = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  contact: Type.Optional(Type.String()),
  createdAt: Instant,
  updatedAt: Instant,
});
export type Team = Static<typeof Team>;

export const FlowParams = Type.Object({ from: Name, to: Name }, strict);
export const FlowInput = Type.Object(
  {
    categories: Type.Array(Type.String(), { minItems: 1, maxItems: 256 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  strict,
);
export type FlowInput = Static<typeof FlowInput>;
/** `from` transmits `categories` to `to`. */
export const Flow = Type.Object({
  from: Type.String(),
  to: Type.String(),
  categories: Type.Array(Type.String()),
  description: Type.Optional(Type.String()),
  createdAt: Instant,
  updatedAt: Instant,
});
export type Flow = Static<typeof Flow>;

export const RIGHTS_CLIENT_PROTOCOLS = ['http', 'grpc', 'ticket'] as const;
export const RightsClientInput = Type.Object(
  {
    system: Name,
    protocol: Literals(RIGHTS_CLIENT_PROTOCOLS),
    /** `http(s)://…` for http, `host:port` for grpc; none for ticket. */
    address: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  strict,
);
export type RightsClientInput = Static<typeof RightsClientInput>;
export const RightsClient = Type.Object({
  name: Type.String(),
  system: Type.String(),
  protocol: Type.String(),
  address: Type.Optional(Type.String()),
  createdAt: Instant,
  updatedAt: Instant,
});
export type RightsClient = Static<typeof RightsClient>;

/** A person or body named in the record of processing (Art. 30(1)(a)). */
export const Contact = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    email: Type.Optional(Type.String({ maxLength: 256 })),
    phone: Type.Optional(Type.String({ maxLength: 64 })),
    address: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  strict,
);
export type Contact = Static<typeof Contact>;
export const Organisation = Type.Object(
  {
    controller: Contact,
    jointControllers: Type.Optional(Type.Array(Contact)),
    /** The Art. 27 representative in the Union, for controllers outside it. */
    representative: Type.Optional(Contact),
    dpo: Type.Optional(Contact),
    /** Art. 32 technical and organisational measures, in words. */
    securityMeasures: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1000 }))),
  },
  strict,
);
export type Organisation = Static<typeof Organisation>;

export const TaxonomyEntryInput = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 256 }),
    description: Type.String({ maxLength: 2000 }),
    /** GDPR Art. 9 special category (data categories only); children inherit it. */
    special: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type TaxonomyEntryInput = Static<typeof TaxonomyEntryInput>;
/** The user's additions to the default taxonomies. */
export const TaxonomyExtensions = Type.Object(
  {
    categories: Type.Optional(Type.Array(TaxonomyEntryInput)),
    purposes: Type.Optional(Type.Array(TaxonomyEntryInput)),
  },
  strict,
);
export type TaxonomyExtensions = Static<typeof TaxonomyExtensions>;
