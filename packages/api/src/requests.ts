/**
 * Schemas of privacy rights requests (DSAR, delete, delete_pii) and of the SQL connectors that
 * answer them directly from a database.
 */
import { Type, type Static } from 'typebox';
import {
  JURISDICTIONS,
  REQUEST_STATUSES,
  REQUEST_STRATEGIES,
  REQUEST_TYPES,
  TASK_STATES,
} from './choices.js';
import { Id, Literals, Name, Reason, SubjectId } from './common.js';
import { LineRejection } from './line-rejection.js';

const strict = { additionalProperties: false } as const;

const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

/** An address is one identifier: every part must match for a record to match. */
export const AddressGroup = Type.Object(
  {
    address: Text(256),
    address2: Type.Optional(Text(256)),
    city: Type.Optional(Text(128)),
    state: Type.Optional(Text(128)),
    postal: Type.Optional(Text(32)),
    country: Type.Optional(Text(64)),
  },
  strict,
);
export type AddressGroup = Static<typeof AddressGroup>;
export const ADDRESS_PARTS = ['address', 'address2', 'city', 'state', 'postal', 'country'] as const;
export type AddressPart = (typeof ADDRESS_PARTS)[number];

/**
 * Who the request is about. Each identifier finds records on its own (any of them matches). The
 * subject and custom keys are kept as given, so they are ids (`Id`); e-mail, phone and address
 * parts may come with stray whitespace, which normalising removes, and the id rule holds for what
 * normalising leaves (`INVALID_IDENTIFIER`).
 */
export const Identifiers = Type.Object(
  {
    /** The subject id used in Lethe's telemetry. */
    subject: Type.Optional(SubjectId),
    email: Type.Optional(Text(320)),
    phone: Type.Optional(Text(64)),
    address: Type.Optional(AddressGroup),
    customKey: Type.Optional(Id(256)),
    customKey2: Type.Optional(Id(256)),
    customKey3: Type.Optional(Id(256)),
  },
  strict,
);
export type Identifiers = Static<typeof Identifiers>;

// SQL connectors --------------------------------------------------------------------------------
export const CONNECTOR_TYPES = ['postgres', 'mysql', 'sqlite'] as const;
export type ConnectorType = (typeof CONNECTOR_TYPES)[number];

/**
 * Semantic tags a column may carry. Identifier tags say which request identifier the column is
 * compared with; `compliance/pii` marks what delete_pii sets to NULL; `source/<key>` links rows of
 * different tables that share the key's value.
 */
export const IDENTIFIER_TAGS = [
  'subject-id',
  'email',
  'phone',
  'address',
  'address2',
  'city',
  'state',
  'postal',
  'country',
  'custom-key',
  'custom-key-2',
  'custom-key-3',
] as const;
export type IdentifierTag = (typeof IDENTIFIER_TAGS)[number];
export const PII_TAG = 'compliance/pii';
export const SOURCE_KEY_TAG_PATTERN = '^source/[a-z0-9][a-z0-9._-]{0,63}$';
/** fideslang's reference directions: `to` from the declaring column to the referenced one, `from` back. */
export const LINK_DIRECTIONS = ['to', 'from'] as const;
export type LinkDirection = (typeof LINK_DIRECTIONS)[number];
/** Who a table's rows belong to, when the way a row was reached is not enough to say. */
export const TABLE_OWNERS = ['subject', 'shared'] as const;
export type TableOwner = (typeof TABLE_OWNERS)[number];
/**
 * What an erasure does to a table's own rows: `row` deletes them (delete) or masks their personal
 * columns (delete_pii); `fields` masks the personal columns and keeps the row for both (invoices
 * kept for accounting); `never` leaves them as they are (reported as kept).
 */
export const ERASE_MODES = ['row', 'fields', 'never'] as const;
export type EraseMode = (typeof ERASE_MODES)[number];
export const MASK_STRATEGIES = ['null', 'fixed', 'hmac', 'random'] as const;
export type MaskStrategy = (typeof MASK_STRATEGIES)[number];

const Identifier = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_$]{0,62}$',
  description: 'a plain SQL identifier (letters, digits, _, $)',
});
const TableName = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_$]{0,62}(\\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$',
  description: 'table or schema.table',
});

const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 80 }), { maxItems: 16 });

/**
 * How an erasure rewrites a personal column: NULL, a fixed text, the hex HMAC-SHA256 of the value
 * under a key of this installation and connector (equal values stay equal), or random text.
 * Without one: NULL where the column allows it, else `'erased'` (text) or 0 (numbers).
 */
export const Mask = Type.Union([
  Type.Object({ strategy: Type.Literal('null') }, strict),
  Type.Object({ strategy: Type.Literal('fixed'), value: Type.String({ maxLength: 1000 }) }, strict),
  Type.Object({ strategy: Type.Literal('hmac') }, strict),
  Type.Object({ strategy: Type.Literal('random') }, strict),
]);
export type Mask = Static<typeof Mask>;

/** A column's tags, data categories (taxonomy keys) and mask. */
export const ColumnSpec = Type.Object(
  {
    tags: Type.Optional(Tags),
    categories: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 16 })),
    mask: Type.Optional(Mask),
  },
  strict,
);
export type ColumnSpec = Static<typeof ColumnSpec>;

export const ConnectorTable = Type.Object(
  {
    name: TableName,
    /** The column(s) that identify a row; reported as the record's pk. */
    primaryKey: Type.Array(Identifier, { minItems: 1, maxItems: 8 }),
    /** Column -> semantic tags, or its tags, data categories and mask. */
    columns: Type.Record(Identifier, Type.Union([Tags, ColumnSpec]), {
      // A key that is no identifier is refused, not left unchecked (patternProperties alone allows it).
      additionalProperties: false,
    }),
    /**
     * References between rows (docs/rights-requests.md, "The reference graph"): this table's
     * `column` holds values of `references` (`table.column`). `direction` (fideslang's) says which
     * way a walk may take it: `to` only from this table to the referenced one, `from` only back;
     * without it the link is walked both ways under the safe rule (never down from a shared row).
     */
    links: Type.Optional(
      Type.Array(
        Type.Object(
          {
            column: Identifier,
            references: Type.String({ minLength: 3, maxLength: 200 }),
            direction: Type.Optional(Literals(LINK_DIRECTIONS)),
          },
          strict,
        ),
        { maxItems: 32 },
      ),
    ),
    /**
     * Whose rows these are. `shared`: every row is shared by several people (products, branches):
     * read where reached, never erased, never walked down from. `subject`: a row reached by
     * walking up into this table still belongs to the one person (a profile the customer row
     * points at). Default: by how the row was reached.
     */
    owner: Type.Optional(Literals(TABLE_OWNERS)),
    /** What an erasure does to the table's own rows (`ERASE_MODES`); default `row`. */
    erase: Type.Optional(Literals(ERASE_MODES)),
  },
  strict,
);
export type ConnectorTable = Static<typeof ConnectorTable>;

export const ConnectorInput = Type.Object(
  {
    type: Literals(CONNECTOR_TYPES),
    /** The environment variable that holds the connection string; the string is never stored. */
    urlEnv: Type.String({ pattern: '^[A-Z_][A-Z0-9_]{0,127}$' }),
    /** The data-map system whose database this is, if any. */
    system: Type.Optional(Name),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    tables: Type.Array(ConnectorTable, { minItems: 1, maxItems: 500 }),
  },
  strict,
);
export type ConnectorInput = Static<typeof ConnectorInput>;

export const Connector = Type.Object({
  name: Type.String(),
  ...ConnectorInput.properties,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type Connector = Static<typeof Connector>;

// Requests --------------------------------------------------------------------------------------
const Instant = Type.String({ description: 'ISO 8601 instant in UTC' });

export const RequestInput = Type.Object(
  {
    /** Your own id for the request (e.g. the ticket number); generated when absent. */
    id: Type.Optional(Name),
    type: Literals(REQUEST_TYPES),
    strategy: Type.Optional(Literals(REQUEST_STRATEGIES)),
    identifiers: Identifiers,
    /** Which law sets the deadline; the server's default (gdpr) when absent. */
    jurisdiction: Type.Optional(Literals(JURISDICTIONS)),
    /** When the person made the request, if before it reached Lethe; the deadline counts from it. */
    receivedAt: Type.Optional(Instant),
    /**
     * delete_pii only: erase only the personal columns of these data categories (and those below
     * them: `user.contact` covers `user.contact.email`). Absent: every personal column.
     */
    categories: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 64 }),
    ),
  },
  strict,
);
export type RequestInput = Static<typeof RequestInput>;

export const RequestIdParams = Type.Object({ id: Name }, strict);
export const TaskParams = Type.Object({ id: Name, task: Type.Integer({ minimum: 1 }) }, strict);

export const ReasonInput = Type.Object({ reason: Reason }, strict);
export type ReasonInput = Static<typeof ReasonInput>;
export const VerifyInput = Type.Object(
  {
    /** How the person's identity was checked, e.g. "email link", "id document". */
    method: Type.String({ minLength: 1, maxLength: 200 }),
    note: Type.Optional(Reason),
  },
  strict,
);
export type VerifyInput = Static<typeof VerifyInput>;
/** Ticket and by-hand records may hold at most this much JSON in all (`TICKET_RECORDS_TOO_LARGE`). */
export const TICKET_RECORDS_MAX_BYTES = 1024 * 1024;
/** A ticket's file may hold at most this many bytes, decoded (`TICKET_FILE_TOO_LARGE`). */
export const TICKET_FILE_MAX_BYTES = 5 * 1024 * 1024;
/** The body limit of the routes that take a ticket's file: the file in base64 and the records. */
export const TICKET_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/** One record a team found by hand: what the person gets in the DSAR package. */
export const TicketRecord = Type.Object(
  {
    dataset: Type.Optional(Type.String({ maxLength: 200 })),
    pk: Type.Optional(Type.String({ maxLength: 500 })),
    fields: Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), { maxProperties: 500 }),
  },
  strict,
);
export type TicketRecord = Static<typeof TicketRecord>;

/**
 * One file a team attaches to a DSAR (an export from their system), in base64: at most
 * `TICKET_FILE_MAX_BYTES` decoded. Stored sealed under the request's key with its content type,
 * size and SHA-256, and handed to the person in the DSAR package.
 */
export const TicketFile = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^/\\\\\\u0000-\\u001f]+$' }),
    contentType: Type.String({
      minLength: 3,
      maxLength: 200,
      pattern: '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$',
    }),
    contentBase64: Type.String({ minLength: 1, maxLength: Math.ceil(TICKET_FILE_MAX_BYTES / 3) * 4 + 4 }),
  },
  strict,
);
export type TicketFile = Static<typeof TicketFile>;

export const TicketDoneInput = Type.Object(
  {
    note: Type.Optional(Reason),
    /** Records the team deleted or cleared (delete, delete_pii). */
    deleted: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Records the team found (dsar): what the person gets in the package. */
    records: Type.Optional(Type.Array(TicketRecord, { maxItems: 10_000 })),
    /** One file the team found (dsar only), e.g. an export from their system. */
    file: Type.Optional(TicketFile),
  },
  strict,
);
export type TicketDoneInput = Static<typeof TicketDoneInput>;

/**
 * A task someone handled outside Lethe (a system that cannot be reached, done by its team):
 * like a ticket marked done, with a note that is required.
 */
export const ManualDoneInput = Type.Object({ ...TicketDoneInput.properties, note: Reason }, strict);
export type ManualDoneInput = Static<typeof ManualDoneInput>;

export const TaskAttempt = Type.Object({
  attempt: Type.Integer(),
  startedAt: Instant,
  finishedAt: Type.Optional(Instant),
  outcome: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
});
export type TaskAttempt = Static<typeof TaskAttempt>;

/** Rows per table an erasure changes, and the line above which it waits for a DPO. */
export const ErasurePlan = Type.Object({
  /** Table name → rows the erasure deletes or masks. */
  rows: Type.Record(Type.String(), Type.Integer()),
  /** More rows than this in one table wait for approval (the server's `LETHE_ERASURE_APPROVAL_ROWS`). */
  threshold: Type.Integer(),
  /** Tables over the threshold and over what was approved: why the task waits. */
  held: Type.Array(Type.String()),
  approved: Type.Optional(
    Type.Object({ rows: Type.Record(Type.String(), Type.Integer()), by: Type.String(), at: Instant }),
  ),
});
export type ErasurePlan = Static<typeof ErasurePlan>;

export const RequestTask = Type.Object({
  /** 1, 2, 3… within the request: `/v1/requests/{id}/tasks/{task}`. */
  task: Type.Integer(),
  /** A rights client's name, a connector's name, or a team's (a ticket where no client exists). */
  target: Type.String(),
  targetKind: Type.Union([Type.Literal('client'), Type.Literal('connector'), Type.Literal('team')]),
  system: Type.Optional(Type.String()),
  team: Type.Optional(Type.String()),
  protocol: Type.String(),
  /** Why the plan includes it: telemetry, the data map, a connector. */
  reasons: Type.Array(Type.String()),
  state: Literals(TASK_STATES),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Optional(Instant),
  lastError: Type.Optional(Type.String()),
  rowsFound: Type.Integer(),
  rowsChanged: Type.Integer(),
  startedAt: Type.Optional(Instant),
  completedAt: Type.Optional(Instant),
  completedBy: Type.Optional(Type.String()),
  note: Type.Optional(Type.String()),
  /**
   * A connector erasure's plan: rows per table it changes, counted in the run's transaction
   * before anything changes. A task `waiting_approval` shows the plan a DPO is asked to approve
   * (`POST /v1/requests/{id}/tasks/{task}/approve`); `approved` says who approved which counts.
   */
  erasurePlan: Type.Optional(ErasurePlan),
  attemptLog: Type.Array(TaskAttempt),
});
export type RequestTask = Static<typeof RequestTask>;

export const RightsRequest = Type.Object({
  id: Type.String(),
  type: Literals(REQUEST_TYPES),
  strategy: Literals(REQUEST_STRATEGIES),
  jurisdiction: Literals(JURISDICTIONS),
  status: Literals(REQUEST_STATUSES),
  source: Type.String(),
  /** The identifiers, only while the request holds them and only for admin and dpo. */
  identifiers: Type.Optional(Identifiers),
  identifierKinds: Type.Array(Type.String()),
  /** A masked description, e.g. `j***@example.com`. */
  masked: Type.String(),
  receivedAt: Instant,
  dueAt: Instant,
  daysLeft: Type.Integer(),
  overdue: Type.Boolean(),
  extension: Type.Optional(Type.Object({ at: Instant, by: Type.String(), reason: Type.String() })),
  receipt: Type.Object({
    dueAt: Type.Optional(Instant),
    confirmedAt: Type.Optional(Instant),
    confirmedBy: Type.Optional(Type.String()),
  }),
  verification: Type.Object({
    required: Type.Boolean(),
    at: Type.Optional(Instant),
    by: Type.Optional(Type.String()),
    method: Type.Optional(Type.String()),
  }),
  approval: Type.Object({
    required: Type.Boolean(),
    at: Type.Optional(Instant),
    by: Type.Optional(Type.String()),
  }),
  statusReason: Type.Optional(Type.String()),
  statusChangedBy: Type.Optional(Type.String()),
  /** delete_pii: the data categories it erases (absent: every personal column). */
  categories: Type.Optional(Type.Array(Type.String())),
  /** A completed erasure of the same person, found by keyed hash: they were deleted before. */
  previouslyErasedBy: Type.Optional(Type.String()),
  rowsFound: Type.Integer(),
  createdBy: Type.String(),
  createdAt: Instant,
  updatedAt: Instant,
  startedAt: Type.Optional(Instant),
  completedAt: Type.Optional(Instant),
  pii: Type.Object({
    held: Type.Boolean(),
    expiresAt: Type.Optional(Instant),
    destroyedAt: Type.Optional(Instant),
  }),
  deliveredAt: Type.Optional(Instant),
  tasks: Type.Optional(Type.Array(RequestTask)),
});
export type RightsRequest = Static<typeof RightsRequest>;

export const RequestList = Type.Object({
  items: Type.Array(RightsRequest),
  next: Type.Optional(Type.String()),
  /** How many requests match the filter, over every page. */
  total: Type.Optional(Type.Integer()),
});
export type RequestList = Static<typeof RequestList>;

/** The plan: which systems and databases the request reaches, and why. */
export const PlannedTarget = Type.Object({
  target: Type.String(),
  targetKind: Type.Union([Type.Literal('client'), Type.Literal('connector'), Type.Literal('team')]),
  system: Type.Optional(Type.String()),
  team: Type.Optional(Type.String()),
  protocol: Type.String(),
  reasons: Type.Array(Type.String()),
});
export type PlannedTarget = Static<typeof PlannedTarget>;
export const RequestPlan = Type.Object({ requestId: Type.String(), targets: Type.Array(PlannedTarget) });
export type RequestPlan = Static<typeof RequestPlan>;

export const ImportResult = Type.Object({
  created: Type.Array(
    Type.Object({ line: Type.Integer(), id: Type.String(), status: Literals(REQUEST_STATUSES) }),
  ),
  rejected: Type.Array(LineRejection),
});
export type ImportResult = Static<typeof ImportResult>;

/** A detail row of a request's report: one matched record. */
export const ReportRow = Type.Object({
  requestId: Type.String(),
  task: Type.Integer(),
  datasource: Type.String(),
  pk: Type.String(),
  matchCategory: Type.String(),
  semantic: Type.String(),
  /** The matching value, while the request holds its identifiers. */
  semanticValue: Type.Optional(Type.String()),
  /** Keyed hash of the matching value; stays after the identifiers are destroyed. */
  semanticValueHash: Type.String(),
  piiColumns: Type.Array(Type.String()),
  /**
   * Why the row was reached but not erased: `shared` (the person's rows point at it, or its table
   * is `owner: shared`: it is shown, never erased). Absent for the person's own rows; more reasons
   * may come.
   */
  kept: Type.Optional(Type.String()),
});
export type ReportRow = Static<typeof ReportRow>;

export const OverviewRow = Type.Object({
  requestId: Type.String(),
  type: Literals(REQUEST_TYPES),
  strategy: Literals(REQUEST_STRATEGIES),
  jurisdiction: Literals(JURISDICTIONS),
  status: Literals(REQUEST_STATUSES),
  identifierKinds: Type.Array(Type.String()),
  masked: Type.String(),
  receivedAt: Instant,
  dueAt: Instant,
  completedAt: Type.Optional(Instant),
  rowsFound: Type.Integer(),
  overdue: Type.Boolean(),
});
export type OverviewRow = Static<typeof OverviewRow>;

/** Telemetry about a person a completed erasure removed: their data came back. */
export const SuppressionHit = Type.Object({
  /** The erasure request that removed them. */
  requestId: Type.String(),
  subject: Type.String(),
  system: Type.String(),
  firstSeenAt: Instant,
  lastSeenAt: Instant,
  count: Type.Integer(),
});
export type SuppressionHit = Static<typeof SuppressionHit>;
