/**
 * Privacy streams: data contracts and the events that conform to them.
 *
 * A contract says what an event looks like (a JSON Schema), which attribute links events to one
 * encryption key (`keyLink`, e.g. a session id), which attribute names the data subject (`subject`,
 * so that one delete request finds all of a subject's keys), which attributes are personal and for
 * which purposes, and extra validation rules:
 *
 *   name: clickstream
 *   version: 1
 *   schema:
 *     type: object
 *     required: [sessionId, customerId, url]
 *     properties:
 *       sessionId: { type: string }
 *       customerId: { type: string }
 *       url: { type: string }
 *       address: { type: object, properties: { city: { type: string } } }
 *   keyLink: sessionId
 *   subject: customerId
 *   personal:
 *     - { attribute: customerId, purposes: [essential.orders] }
 *     - { attribute: address.city, purposes: [marketing.profiling] }
 *   rules:
 *     - { attribute: url, pattern: "^https://" }
 *
 * Attributes are named by dotted paths through nested objects (`address.city`); arrays cannot be
 * entered, so a personal attribute is a whole array at most. Versions are positive integers, so
 * "newer" is a plain comparison. Where an object schema does not say `additionalProperties`, it is
 * taken as `false`: events with attributes the contract does not declare are rejected.
 *
 * An event travels in an envelope that names its contract as `name@version` and carries the
 * subject's consent for this very event (purpose keys):
 *
 *   { "id": "e-1", "contract": "clickstream@1", "consent": ["essential", "marketing.profiling"],
 *     "at": "2024-03-01T10:00:00Z", "data": { "sessionId": "s-9", "customerId": "c-1", ... } }
 */
import { Type, type Static } from 'typebox';
import { Id, Instant, Literals, Name, QueryInteger } from './common.js';
import { EventBatch } from './retention.js';

const strict = { additionalProperties: false } as const;

/** A contract name is a name like any other (no `@`, so `name@version` splits at the one `@`). */
export const ContractName = Name;

export const ContractVersion = Type.Integer({ minimum: 1, description: 'positive integer; higher is newer' });

/** A dotted path through nested objects of the event, e.g. `address.city`. */
export const AttributePath = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'attribute name, or dotted path into nested objects such as address.city',
});

const PurposeKey = Type.String({ minLength: 1, description: 'dotted purpose key, e.g. marketing.email' });

export const PersonalAttribute = Type.Object(
  {
    attribute: AttributePath,
    purposes: Type.Array(PurposeKey, { minItems: 1, description: 'purposes the attribute may be used for' }),
  },
  strict,
);
export type PersonalAttribute = Static<typeof PersonalAttribute>;

/** Content rules beyond the schema; string rules need a string value, number rules a number. */
export const ContractRule = Type.Object(
  {
    attribute: AttributePath,
    pattern: Type.Optional(Type.String({ description: 'ECMAScript regular expression (unicode mode)' })),
    minLength: Type.Optional(Type.Integer({ minimum: 0 })),
    maxLength: Type.Optional(Type.Integer({ minimum: 0 })),
    minimum: Type.Optional(Type.Number()),
    maximum: Type.Optional(Type.Number()),
    enum: Type.Optional(Type.Array(Type.Unknown(), { minItems: 1 })),
  },
  strict,
);
export type ContractRule = Static<typeof ContractRule>;

/** The event's JSON Schema (draft 2020-12 subset); checked in full when the contract is compiled. */
export type ContractSchema = { type: 'object'; [keyword: string]: unknown };
export const ContractSchema = Type.Unsafe<ContractSchema>(
  Type.Object(
    { type: Type.Literal('object') },
    { additionalProperties: true, description: 'JSON Schema (2020-12 subset) with type object at the root' },
  ),
);

export const DataContractInput = Type.Object(
  {
    version: ContractVersion,
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    schema: ContractSchema,
    keyLink: AttributePath,
    subject: AttributePath,
    personal: Type.Array(PersonalAttribute),
    rules: Type.Optional(Type.Array(ContractRule)),
    keyRetention: Type.Optional(
      Type.String({
        description:
          'ISO 8601 duration, e.g. P90D: keys are shredded this long after their rotation period ends',
      }),
    ),
  },
  strict,
);
export type DataContractInput = Static<typeof DataContractInput>;

export const DataContract = Type.Interface(
  [Type.Object({ name: ContractName, createdAt: Instant }), DataContractInput],
  {},
);
export type DataContract = Static<typeof DataContract>;

/** The envelope of one event; `data` must conform to the contract named by `contract`. */
export const StreamEvent = Type.Object(
  {
    id: Id(256),
    contract: Type.String({ description: 'name@version, e.g. clickstream@3' }),
    consent: Type.Array(PurposeKey, { description: "the subject's consent for this event" }),
    at: Type.Optional(Instant),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  strict,
);
export type StreamEvent = Static<typeof StreamEvent>;

export const STREAM_REJECTION_CODES = [
  'INVALID_ENVELOPE',
  'UNKNOWN_CONTRACT',
  'CONTRACT_VERSION_MISMATCH',
  'CONSENT_INVALID',
  'MISSING_ATTRIBUTE',
  'EXTRA_ATTRIBUTE',
  'WRONG_TYPE',
  'RULE_VIOLATION',
  'KEY_SHREDDED',
] as const;
export type StreamRejectionCode = (typeof STREAM_REJECTION_CODES)[number];

/**
 * Why an event was refused; an event gets every reason that applies. `path` leads from the
 * envelope: `data.address.city`, `data.items[2]`, `consent[0]`; the envelope itself is `""`.
 */
export const StreamEventRejection = Type.Object({
  code: Literals(STREAM_REJECTION_CODES),
  path: Type.String(),
  message: Type.String(),
  /** WRONG_TYPE: the JSON type(s) the schema wants and the one the event has. */
  expected: Type.Optional(Type.String()),
  got: Type.Optional(Type.String()),
  /** RULE_VIOLATION: the rule or schema keyword that failed, e.g. pattern, maximum, enum. */
  rule: Type.Optional(Type.String()),
});
export type StreamEventRejection = Static<typeof StreamEventRejection>;

/** One refused event of an ingest batch: its index in the batch, its id when it had one, every reason. */
export const StreamIngestRejection = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  id: Type.Optional(Type.String()),
  reasons: Type.Array(StreamEventRejection, { minItems: 1 }),
});
export type StreamIngestRejection = Static<typeof StreamIngestRejection>;

/**
 * The answer to a batch of stream events. Good events are stored (durably) even when others in
 * the batch are refused; an event whose id is already in the stream counts as a duplicate.
 */
export const StreamIngestResult = Type.Object({
  accepted: Type.Integer({ minimum: 0 }),
  duplicates: Type.Integer({ minimum: 0 }),
  rejected: Type.Array(StreamIngestRejection),
});
export type StreamIngestResult = Static<typeof StreamIngestResult>;

// --- Routes ----------------------------------------------------------------------------------

export const ContractParams = Type.Object({ name: ContractName }, strict);
export const ContractVersionParams = Type.Object(
  { name: ContractName, version: Type.Integer({ minimum: 1 }) },
  strict,
);

/** `GET /v1/contracts/{name}`: the newest version and every version there is. */
export const ContractHistory = Type.Object({
  name: ContractName,
  latest: DataContract,
  versions: Type.Array(ContractVersion),
});
export type ContractHistory = Static<typeof ContractHistory>;

/** The body of `POST /v1/streams/events` as JSON: a bare array, or `{"events": [...]}`. */
export const StreamEventBatch = Type.Union([Type.Array(Type.Unknown()), EventBatch]);

export const WITHHELD_MODES = ['keep-encrypted', 'drop'] as const;

export const StreamReadQuery = Type.Object(
  {
    after: Type.Optional(QueryInteger({ minimum: 0, default: 0, description: 'read after this position' })),
    limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 1000, default: 100 })),
    purposes: Type.Optional(
      Type.String({
        description: 'comma-separated purpose keys: the derived stream for them; absent for the base stream',
      }),
    ),
    withheld: Type.Optional(Literals(WITHHELD_MODES)),
  },
  strict,
);

/** One event as a stream shows it (the base stream: personal values as `lf1.` ciphertexts). */
export const ViewedStreamEvent = Type.Object({
  seq: Type.Integer(),
  id: Type.String(),
  contract: Type.String(),
  consent: Type.Array(Type.String()),
  at: Instant,
  data: Type.Record(Type.String(), Type.Unknown()),
  unreadable: Type.Optional(Type.Array(Type.String())),
});

export type ViewedStreamEvent = Static<typeof ViewedStreamEvent>;

export const StreamPage = Type.Object({
  events: Type.Array(ViewedStreamEvent),
  lastSeq: Type.Integer({ description: 'read on with after=lastSeq' }),
});
export type StreamPage = Static<typeof StreamPage>;

/** A field key as the API shows it: who and which period, never the key material. */
export const StreamKey = Type.Object({
  id: Type.String(),
  contract: Type.String(),
  periodStart: Instant,
  periodEnd: Instant,
  createdAt: Type.Optional(Instant),
  shreddedAt: Type.Optional(Instant),
  shredReason: Type.Optional(Type.String()),
});
export type StreamKey = Static<typeof StreamKey>;

export const StreamKeyParams = Type.Object({ id: Id(64) }, strict);

export const ShredResult = Type.Object({ shredded: Type.Integer({ minimum: 0 }) });
export type ShredResult = Static<typeof ShredResult>;
