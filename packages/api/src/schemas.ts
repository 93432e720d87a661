/**
 * Request and response schemas of API v1, written once: the server validates with them and
 * publishes them as OpenAPI, the SDK takes its types from them.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

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

export const SystemInput = Type.Object(
  {
    team: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    datasets: Type.Optional(Type.Array(DatasetDeclaration)),
  },
  strict,
);
export type SystemInput = Static<typeof SystemInput>;

export const System = Type.Object({
  name: Type.String(),
  team: Type.String(),
  description: Type.Optional(Type.String()),
  datasets: Type.Array(DatasetDeclaration),
  createdAt: Instant,
  updatedAt: Instant,
});
export type System = Static<typeof System>;

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
  /** When this use alone would let the field be kept until. */
  keepsUntil: Instant,
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
