/**
 * Request and response schemas of API v1, written once: the server validates with them and
 * publishes them as OpenAPI, the SDK takes its types from them.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ConsentPurposeState } from './consent.js';

const Name = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
  description: 'letters, digits, ".", "_", "-"',
});
/** ISO 8601 instant on the wire, e.g. 2023-01-05T10:00:00Z. */
export const Instant = Type.String({ description: 'ISO 8601 instant in UTC, e.g. 2023-01-05T10:00:00Z' });
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (UTC)' });
const strict = { additionalProperties: false } as const;

export const LEGAL_BASES = [
  'consent',
  'contract',
  'legal_obligation',
  'vital_interests',
  'public_task',
  'legitimate_interests',
] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

export const NameParams = Type.Object({ name: Name }, strict);
export const SubjectParams = Type.Object({ subject: Type.String({ minLength: 1, maxLength: 256 }) }, strict);

// Policies ----------------------------------------------------------------------------------
export const PolicyInput = Type.Object(
  {
    purpose: Type.String({ description: 'dotted purpose key, e.g. marketing.email' }),
    retention: Type.String({ description: 'ISO 8601 duration, e.g. P2Y' }),
    legalBasis: Type.String({ description: `one of ${LEGAL_BASES.join(', ')}` }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    /** Categories of data subjects for the record of processing, e.g. customers, employees. */
    dataSubjects: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }))),
    /** When the privacy team last reviewed this processing. */
    reviewedOn: Type.Optional(Day),
  },
  strict,
);
export type PolicyInput = Static<typeof PolicyInput>;

export const Policy = Type.Object({
  name: Type.String(),
  purpose: Type.String(),
  retention: Type.String(),
  legalBasis: Type.String(),
  description: Type.Optional(Type.String()),
  dataSubjects: Type.Optional(Type.Array(Type.String())),
  reviewedOn: Type.Optional(Type.String()),
  version: Type.Integer(),
  status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
  createdAt: Instant,
  updatedAt: Instant,
  retiredAt: Type.Optional(Instant),
});
export type Policy = Static<typeof Policy>;

export const PolicyVersion = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  purpose: Type.String(),
  retention: Type.String(),
  legalBasis: Type.String(),
  description: Type.Optional(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
  changedAt: Instant,
  changedBy: Type.String(),
});
export type PolicyVersion = Static<typeof PolicyVersion>;

export const PreviewInput = Type.Object({ retention: Type.String() }, strict);
export type PreviewInput = Static<typeof PreviewInput>;

export const RetentionPreview = Type.Object({
  policy: Type.String(),
  currentRetention: Type.String(),
  retention: Type.String(),
  /** Subject-fields that hold at least one use under this policy. */
  subjectFieldsUsingPolicy: Type.Integer(),
  /** Subject-fields whose expiry would move. */
  subjectFieldsChanged: Type.Integer(),
  subjectFieldsEarlier: Type.Integer(),
  subjectFieldsLater: Type.Integer(),
  earliestNewExpiry: Type.Optional(Instant),
  latestNewExpiry: Type.Optional(Instant),
});
export type RetentionPreview = Static<typeof RetentionPreview>;

// Systems -----------------------------------------------------------------------------------
export const FieldDeclaration = Type.Object(
  { name: Name, categories: Type.Optional(Type.Array(Type.String())) },
  strict,
);
export const DatasetDeclaration = Type.Object({ name: Name, fields: Type.Array(FieldDeclaration) }, strict);
export type DatasetDeclaration = Static<typeof DatasetDeclaration>;

/** ISO 3166-1 alpha-2 country code, upper case (`DE`, `US`). */
const Country = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2, e.g. DE' });

/** What a system says about where it runs and who runs it; feeds the record of processing. */
const SystemAttributes = {
  team: Type.String({ minLength: 1, maxLength: 128 }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  /** Run by another company (a processor or recipient), e.g. a payment provider. */
  thirdParty: Type.Optional(Type.Boolean()),
  /** Where the data is processed; outside the EEA it is a third-country transfer. */
  country: Type.Optional(Country),
  /** The Art. 46 safeguard of a third-country transfer, e.g. "SCC 2021/914". */
  safeguards: Type.Optional(Type.String({ maxLength: 500 })),
};

export const SystemInput = Type.Object(
  { ...SystemAttributes, datasets: Type.Optional(Type.Array(DatasetDeclaration)) },
  strict,
);
export type SystemInput = Static<typeof SystemInput>;

export const System = Type.Object({
  name: Type.String(),
  ...SystemAttributes,
  datasets: Type.Array(DatasetDeclaration),
  createdAt: Instant,
  updatedAt: Instant,
});
export type System = Static<typeof System>;

// Data map ----------------------------------------------------------------------------------
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
    protocol: Type.Union(RIGHTS_CLIENT_PROTOCOLS.map((p) => Type.Literal(p))),
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

/** Metric and label names of the discovery series, when they differ from the defaults. */
const DiscoveryNaming = {
  /** Prepended to the default metric names: `privacy_` reads `privacy_transmit`, … */
  prefix: Type.Optional(Type.String({ maxLength: 64 })),
  metrics: Type.Optional(
    Type.Object(
      {
        transmit: Type.Optional(Type.String()),
        store: Type.Optional(Type.String()),
        client: Type.Optional(Type.String()),
      },
      strict,
    ),
  ),
  labels: Type.Optional(
    Type.Object(
      {
        team: Type.Optional(Type.String()),
        service: Type.Optional(Type.String()),
        toService: Type.Optional(Type.String()),
        dataType: Type.Optional(Type.String()),
        address: Type.Optional(Type.String()),
        protocol: Type.Optional(Type.String()),
      },
      strict,
    ),
  ),
  /** `data_type` label value → category key, for values that are not taxonomy keys (`ip` → `user.device.ip_address`). */
  dataTypes: Type.Optional(Type.Record(Type.String(), Type.String())),
  /** How often to read the source (ISO 8601 duration, default PT1M). */
  interval: Type.Optional(Type.String()),
  /** How long an entry may go unseen before it is marked stale (default PT1H). */
  staleAfter: Type.Optional(Type.String()),
};
export const PrometheusSourceInput = Type.Object(
  { name: Type.Optional(Name), url: Type.String({ minLength: 1, maxLength: 2048 }), ...DiscoveryNaming },
  strict,
);
export type PrometheusSourceInput = Static<typeof PrometheusSourceInput>;
export const ScrapeSourceInput = Type.Object(
  {
    name: Type.Optional(Name),
    /** Full URLs of `/metrics` endpoints. */
    targets: Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), { minItems: 1, maxItems: 1000 }),
    ...DiscoveryNaming,
  },
  strict,
);
export type ScrapeSourceInput = Static<typeof ScrapeSourceInput>;
export const DiscoverySource = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('prometheus'), Type.Literal('scrape')]),
  url: Type.Optional(Type.String()),
  targets: Type.Optional(Type.Array(Type.String())),
  ...DiscoveryNaming,
  interval: Type.String(),
  staleAfter: Type.String(),
  createdAt: Instant,
  updatedAt: Instant,
  lastRunAt: Type.Optional(Instant),
  lastSuccessAt: Type.Optional(Instant),
  lastError: Type.Optional(Type.String()),
});
export type DiscoverySource = Static<typeof DiscoverySource>;
export const DiscoveryRun = Type.Object({
  source: Type.String(),
  at: Instant,
  /** Series seen in this run, and how many of them were new. */
  seen: Type.Integer(),
  added: Type.Integer(),
  /** Scrape targets that failed (the others still count). */
  failures: Type.Array(Type.Object({ target: Type.String(), message: Type.String() })),
});
export type DiscoveryRun = Static<typeof DiscoveryRun>;

/**
 * Where an entry of the graph is known from: `declared` (API or manifest) or the name of the
 * discovery source that saw it. An entry can be both, which is how drift is told apart.
 */
const Provenance = {
  sources: Type.Array(Type.String()),
  /** Last time a discovery source saw it; absent for declared-only entries. */
  lastSeenAt: Type.Optional(Instant),
  /** Discovered only, and not seen for longer than its source's `staleAfter`. */
  stale: Type.Boolean(),
};
export const GraphNode = Type.Object({
  /** `team:NAME`, `system:NAME`, `category:KEY` or `client:ADDRESS`. */
  id: Type.String(),
  kind: Type.Union([
    Type.Literal('team'),
    Type.Literal('system'),
    Type.Literal('category'),
    Type.Literal('client'),
  ]),
  label: Type.String(),
  team: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  thirdParty: Type.Optional(Type.Boolean()),
  country: Type.Optional(Type.String()),
  protocol: Type.Optional(Type.String()),
  /** Category nodes: a key outside the taxonomy (e.g. an unmapped Prometheus data_type). */
  unknownCategory: Type.Optional(Type.Boolean()),
  ...Provenance,
});
export type GraphNode = Static<typeof GraphNode>;
export const GraphEdge = Type.Object({
  from: Type.String(),
  to: Type.String(),
  /** owns: team → system; store: system → category; transmit: system → system; client: team → client. */
  kind: Type.Union([
    Type.Literal('owns'),
    Type.Literal('store'),
    Type.Literal('transmit'),
    Type.Literal('client'),
  ]),
  categories: Type.Array(Type.String()),
  ...Provenance,
});
export type GraphEdge = Static<typeof GraphEdge>;
export const DataMapGraph = Type.Object({ nodes: Type.Array(GraphNode), edges: Type.Array(GraphEdge) });
export type DataMapGraph = Static<typeof DataMapGraph>;

export const Holder = Type.Object({
  system: Type.String(),
  team: Type.Optional(Type.String()),
  /** stores: keeps a covered category; receives: a flow brings it one; sends: passes one on without storing it. */
  how: Type.Union([Type.Literal('stores'), Type.Literal('receives'), Type.Literal('sends')]),
  categories: Type.Array(Type.String()),
  /** Shortest path of systems from where the data is held to this system, both ends included. */
  via: Type.Array(Type.String()),
});
export type Holder = Static<typeof Holder>;
export const Destination = Type.Object({
  system: Type.String(),
  team: Type.Optional(Type.String()),
  path: Type.Array(Type.String()),
  depth: Type.Integer(),
  categories: Type.Array(Type.String()),
});
export type Destination = Static<typeof Destination>;

const Seen = { sources: Type.Array(Type.String()), lastSeenAt: Instant };
/** Observed versus declared: where the map and reality disagree. */
export const DataMapDrift = Type.Object({
  /** Whether any discovery source has reported; without one, no flow can be "never observed". */
  observing: Type.Boolean(),
  /** Telemetry shows a system using a field another system declares (or none does). */
  undeclaredUses: Type.Array(
    Type.Object({
      system: Type.String(),
      field: Type.String(),
      owner: Type.Optional(Type.String()),
      policies: Type.Array(Type.String()),
      lastUseAt: Instant,
      count: Type.Integer(),
    }),
  ),
  /** Declared flows no discovery source has seen (or seen only long ago). */
  unobservedFlows: Type.Array(
    Type.Object({
      from: Type.String(),
      to: Type.String(),
      categories: Type.Array(Type.String()),
      sources: Type.Array(Type.String()),
      lastSeenAt: Type.Optional(Instant),
    }),
  ),
  /** Observed transmissions with no declared flow. */
  undeclaredFlows: Type.Array(
    Type.Object({ from: Type.String(), to: Type.String(), categories: Type.Array(Type.String()), ...Seen }),
  ),
  /** Declared flows observed carrying categories the declaration lacks. */
  undeclaredCategories: Type.Array(
    Type.Object({
      from: Type.String(),
      to: Type.String(),
      categories: Type.Array(Type.String()),
      declaredCategories: Type.Array(Type.String()),
      ...Seen,
    }),
  ),
  /** Observed stores of a category no declared field of the system covers. */
  undeclaredStores: Type.Array(
    Type.Object({
      system: Type.String(),
      category: Type.String(),
      systemDeclared: Type.Boolean(),
      unknownCategory: Type.Boolean(),
      ...Seen,
    }),
  ),
  /** Services seen by discovery that no system declares. */
  unknownSystems: Type.Array(Type.Object({ name: Type.String(), teams: Type.Array(Type.String()), ...Seen })),
});
export type DataMapDrift = Static<typeof DataMapDrift>;

// Telemetry ---------------------------------------------------------------------------------
export const UsageEvent = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    subject: Type.String({ maxLength: 256 }),
    system: Type.String(),
    policy: Type.String(),
    fields: Type.Array(Type.String(), { minItems: 1, maxItems: 256 }),
    at: Instant,
  },
  strict,
);
export type UsageEvent = Static<typeof UsageEvent>;

export const EventBatch = Type.Object({ events: Type.Array(Type.Unknown()) }, strict);

export const EventRejection = Type.Object({
  index: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
});
export type EventRejection = Static<typeof EventRejection>;

export const IngestResult = Type.Object({
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Array(EventRejection),
});
export type IngestResult = Static<typeof IngestResult>;

// Retention ---------------------------------------------------------------------------------
export const Use = Type.Object({
  policy: Type.String(),
  system: Type.String(),
  firstUseAt: Instant,
  lastUseAt: Instant,
  count: Type.Integer(),
  /** When this use alone would let the field be kept until (cut by consent, docs/consent.md). */
  keepsUntil: Instant,
  /** For a consent-based policy: the purpose whose consent it needs. */
  consentPurpose: Type.Optional(Type.String()),
  /** For a consent-based policy: the latest use made while consent stood. */
  lastConsentedUseAt: Type.Optional(Instant),
});
export type Use = Static<typeof Use>;

export const SubjectField = Type.Object({
  field: Type.String(),
  expiresAt: Instant,
  policy: Type.String(),
  system: Type.String(),
  lastUseAt: Instant,
  erasedAt: Type.Optional(Instant),
  reappearedAt: Type.Optional(Instant),
  uses: Type.Array(Use),
});
export type SubjectField = Static<typeof SubjectField>;

export const SubjectRetention = Type.Object({
  subject: Type.String(),
  expiresAt: Instant,
  /** The field that keeps the subject longest, and why. */
  decidedBy: Type.Object({ field: Type.String(), policy: Type.String(), system: Type.String() }),
  fields: Type.Array(SubjectField),
  /** The subject's consent per purpose (docs/consent.md); empty when none was recorded. */
  consent: Type.Record(Type.String(), ConsentPurposeState),
});
export type SubjectRetention = Static<typeof SubjectRetention>;

export const ExpiryLevel = Type.Union([Type.Literal('field'), Type.Literal('subject')]);
export type ExpiryLevel = Static<typeof ExpiryLevel>;

export const ExpiryQuery = Type.Object(
  {
    day: Type.Optional(Day),
    from: Type.Optional(Day),
    to: Type.Optional(Day),
    system: Type.Optional(Type.String()),
    dataset: Type.Optional(Type.String()),
    field: Type.Optional(Type.String()),
    level: Type.Optional(ExpiryLevel),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    cursor: Type.Optional(Type.String()),
  },
  strict,
);
export type ExpiryQuery = Static<typeof ExpiryQuery>;

export const ExpiryItem = Type.Object({
  subject: Type.String(),
  field: Type.String(),
  expiresAt: Instant,
  policy: Type.String(),
  system: Type.String(),
});
export type ExpiryItem = Static<typeof ExpiryItem>;

export const ExpiryPage = Type.Object({ items: Type.Array(ExpiryItem), next: Type.Optional(Type.String()) });
export type ExpiryPage = Static<typeof ExpiryPage>;

export const ErasureInput = Type.Object(
  {
    system: Type.String(),
    fields: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    at: Type.Optional(Instant),
  },
  strict,
);
export type ErasureInput = Static<typeof ErasureInput>;

export const ErasureResult = Type.Object({
  subject: Type.String(),
  system: Type.String(),
  fields: Type.Array(Type.String()),
  erasedAt: Instant,
});
export type ErasureResult = Static<typeof ErasureResult>;

export const Reappearance = Type.Object({
  subject: Type.String(),
  field: Type.String(),
  erasedAt: Instant,
  reappearedAt: Type.Optional(Instant),
  lastUseAt: Instant,
  system: Type.String(),
});
export type Reappearance = Static<typeof Reappearance>;

// Audit -----------------------------------------------------------------------------------
export const AuditEntry = Type.Object({
  seq: Type.Integer(),
  at: Instant,
  actor: Type.String({ description: '`role:id`, with `@issuer` for an external issuer' }),
  action: Type.String({ description: 'e.g. policy.put, subject.read, events.publish' }),
  target: Type.String({ description: 'e.g. policy:marketing, subject:u-1001 (pseudonymised for auditors)' }),
  requestId: Type.Optional(Type.String()),
  hash: Type.String(),
  prevHash: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'entries after this seq' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000 })),
  },
  strict,
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditPage = Type.Object({ items: Type.Array(AuditEntry), next: Type.Optional(Type.Integer()) });
export type AuditPage = Static<typeof AuditPage>;

/** The chain head at `seq`, signed as a compact JWS by the signing key `kid`; keep a copy outside. */
export const AuditCheckpoint = Type.Object({
  seq: Type.Integer(),
  hash: Type.String(),
  at: Instant,
  kid: Type.String(),
  signature: Type.String({ description: 'compact JWS over {seq, hash, at}' }),
});
export type AuditCheckpoint = Static<typeof AuditCheckpoint>;

export const AuditVerification = Type.Object({
  ok: Type.Boolean(),
  /** Entries checked. */
  checked: Type.Integer(),
  head: Type.Object({ seq: Type.Integer(), hash: Type.String() }),
  firstBroken: Type.Optional(Type.Object({ seq: Type.Integer(), reason: Type.String() })),
  checkpointsChecked: Type.Integer(),
});
export type AuditVerification = Static<typeof AuditVerification>;

export const ListOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) });
export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    requestId: Type.Optional(Type.String()),
    details: Type.Optional(Type.Unknown()),
  }),
});

// Signing keys -----------------------------------------------------------------------------

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
