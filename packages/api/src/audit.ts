/** The audit trail, its signed checkpoints and its verification. */
import { Type, type Static } from 'typebox';
import { Instant, QueryInteger } from './common.js';

const strict = { additionalProperties: false } as const;

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
    after: Type.Optional(QueryInteger({ minimum: 0, description: 'entries after this seq' })),
    limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 1_000 })),
  },
  strict,
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditPage = Type.Object({
  items: Type.Array(AuditEntry),
  next: Type.Optional(Type.Integer()),
  /** Entries in the log (the head's seq): pages of `limit` go up to it. */
  total: Type.Optional(Type.Integer()),
});
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
  /** Entries found intact: all of them when ok, else those before the first broken one. */
  checked: Type.Integer(),
  /** The last intact entry: the chain's head when ok. */
  head: Type.Object({ seq: Type.Integer(), hash: Type.String() }),
  firstBroken: Type.Optional(Type.Object({ seq: Type.Integer(), reason: Type.String() })),
  checkpointsChecked: Type.Integer(),
});
export type AuditVerification = Static<typeof AuditVerification>;
