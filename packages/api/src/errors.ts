/**
 * The one registry of error codes. The server answers `{"error": {"code", "message"}}` with the
 * status given here; per-event ingest rejections use the same codes. Codes are stable: clients
 * may switch on them, so a code is never renamed, only added.
 */
export const ERRORS = {
  // Request shape
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the schema.' },
  INVALID_JSON: { status: 400, message: 'The body is not valid JSON.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The content type is not supported here.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is larger than allowed.' },
  BATCH_TOO_LARGE: { status: 413, message: 'The batch holds more events than allowed.' },
  INGEST_BACKLOG: {
    status: 503,
    message: 'Accepted telemetry waits to be folded beyond the backlog limit; retry after the given time.',
  },
  EVENT_OUTSIDE_DEDUPE_WINDOW: {
    status: 409,
    message:
      'The event carries an id but is older than the event-id dedupe window, so a retry cannot be recognised.',
  },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route.' },
  INVALID_URL: { status: 400, message: 'The URL holds a malformed percent-escape.' },
  INVALID_TEXT: {
    status: 400,
    message: 'A string holds NUL or a lone surrogate: text must be well-formed Unicode without NUL.',
  },
  PATH_PARAM_TOO_LONG: { status: 414, message: 'A path parameter is longer than the server accepts.' },
  MALFORMED_REQUEST: { status: 400, message: 'The request is not well-formed HTTP.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are larger than allowed.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive in full within the time allowed.' },
  INVALID_TIME: { status: 400, message: 'A time is not an ISO 8601 UTC instant, or lies in the future.' },
  INVALID_DAY: { status: 400, message: 'A day is not a valid YYYY-MM-DD date.' },
  INVALID_RANGE: { status: 400, message: 'The range is empty or too long.' },
  INVALID_CURSOR: { status: 400, message: 'The cursor is not one this server issued.' },
  INVALID_NAME: { status: 400, message: 'A name may hold letters, digits, ".", "_" and "-" only.' },

  // Authentication and authorisation
  TOKEN_MISSING: { status: 401, message: 'A bearer token is required.' },
  TOKEN_INVALID: { status: 401, message: 'The token is not valid.' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired.' },
  TOKEN_LIFETIME_TOO_LONG: { status: 401, message: 'Tokens may live at most 12 hours (exp - iat).' },
  ISSUER_NOT_TRUSTED: { status: 401, message: 'The token comes from an issuer this server does not trust.' },
  FORBIDDEN: { status: 403, message: 'The token does not allow this action.' },
  CATEGORY_NOT_PERMITTED: {
    status: 403,
    message: 'The token may not see data of this category; ask for a token with wider categories.',
  },
  SUBJECT_IDS_NOT_GRANTED: {
    status: 403,
    message: 'The token does not grant subject ids; mint one with the subject-ids grant.',
  },
  RATE_LIMITED: { status: 429, message: 'Too many requests for this token; retry after the given time.' },
  SIGN_IN_CODE_INVALID: {
    status: 401,
    message: 'The sign-in link is unknown, already used or expired; ask for a new one.',
  },
  OIDC_STATE_INVALID: {
    status: 400,
    message:
      'The sign-in was not started in this tab by this server, took too long, or its state does not match.',
  },
  OIDC_CODE_INVALID: {
    status: 400,
    message: 'The identity provider refused the authorization code (expired, used, or for another sign-in).',
  },
  OIDC_ID_TOKEN_INVALID: {
    status: 401,
    message: 'The ID token is not valid for this sign-in (signature, issuer, audience, expiry or nonce).',
  },
  OIDC_NO_ROLE: {
    status: 403,
    message: "The identity provider's claims give this account no role in Lethe.",
  },
  OIDC_PROVIDER_ERROR: {
    status: 502,
    message: 'The identity provider could not be reached or refused the server; an administrator must look.',
  },

  // Policies
  POLICY_NOT_FOUND: { status: 404, message: 'No such policy.' },
  POLICY_RETIRED: { status: 409, message: 'The policy is retired.' },
  POLICY_CHANGE_REASON_REQUIRED: {
    status: 400,
    message:
      "A change of an existing policy's retention, since, legal basis or consent purpose, or its retirement, needs a reason.",
  },
  JOB_NOT_FOUND: { status: 404, message: 'No such job.' },
  INVALID_DURATION: {
    status: 400,
    message: 'Retention must be an ISO 8601 duration such as P2Y, P6M or PT36H.',
  },
  UNKNOWN_LEGAL_BASIS: { status: 400, message: 'Unknown legal basis.' },
  INVALID_PURPOSE: { status: 400, message: 'A purpose is a dotted key such as marketing.email.' },
  PURPOSE_UNKNOWN: { status: 400, message: 'The purpose is not in the purpose taxonomy.' },
  INVALID_AGING: {
    status: 400,
    message: 'since is one of last-use, first-use, event:<name>, until:<YYYY-MM-DD>.',
  },
  HOLD_NOT_FOUND: { status: 404, message: 'No such legal hold.' },
  WEBHOOK_NOT_FOUND: { status: 404, message: 'No such webhook.' },
  WEBHOOK_EXISTS: { status: 409, message: 'A webhook of that name exists already.' },
  WEBHOOK_URL_INVALID: {
    status: 400,
    message:
      'A webhook URL must be https (http to a loopback host, or anywhere if the server allows it), without credentials, and not name a private, loopback or reserved address unless allowed.',
  },
  WEBHOOK_DELIVERY_NOT_FOUND: { status: 404, message: 'No such webhook delivery.' },

  // Data map
  SYSTEM_NOT_FOUND: { status: 404, message: 'No such system.' },
  DATASET_OWNED_ELSEWHERE: { status: 409, message: 'A dataset of that name belongs to another system.' },
  DUPLICATE_NAME: { status: 400, message: 'A name appears twice in one list.' },
  INVALID_CATEGORY: { status: 400, message: 'A data category is a dotted key such as user.contact.email.' },
  FIELD_NOT_DECLARED: { status: 400, message: 'The field is not declared by any dataset.' },
  UNKNOWN_CATEGORY: { status: 400, message: 'The data category is not in the taxonomy.' },
  SYSTEM_HOLDS_DATA: {
    status: 409,
    message: "Telemetry says the system's fields still hold data; it cannot leave the map yet.",
  },
  TEAM_NOT_FOUND: { status: 404, message: 'No such team.' },
  TEAM_OWNS_SYSTEMS: { status: 409, message: 'The team still owns systems.' },
  FLOW_NOT_FOUND: { status: 404, message: 'No such flow.' },
  CLIENT_NOT_FOUND: { status: 404, message: 'No such rights client.' },
  INVALID_ADDRESS: { status: 400, message: 'The address does not fit the protocol.' },
  ORGANISATION_NOT_SET: { status: 404, message: 'No organisation has been declared yet.' },
  SOURCE_NOT_FOUND: { status: 404, message: 'No such discovery source.' },
  INVALID_SOURCE: { status: 400, message: 'The discovery source is incomplete or malformed.' },
  MANIFEST_INVALID: {
    status: 400,
    message: 'The manifest has an entry the server refused; see details.path.',
  },
  TAXONOMY_INVALID: {
    status: 400,
    message: 'A taxonomy entry needs a dotted key, an existing parent and a key not yet defined.',
  },
  DISCOVERY_CONFIG_INVALID: {
    status: 400,
    message: 'A discovery source is misconfigured: a metric or label name is not a valid Prometheus name.',
  },
  DISCOVERY_FAILED: { status: 502, message: 'A discovery source could not be read.' },

  // Telemetry and retention
  SUBJECT_MISSING: { status: 400, message: 'The event names no subject.' },
  INVALID_EVENT: { status: 400, message: 'The event does not match the event schema.' },
  SYSTEM_NOT_PERMITTED: { status: 403, message: 'The token may not act for this system.' },
  SUBJECT_NOT_FOUND: { status: 404, message: 'Lethe holds nothing about this subject.' },
  SUBJECT_EVENT_NOT_FOUND: { status: 404, message: 'The subject has no such event.' },
  NOTHING_TO_ERASE: { status: 409, message: 'The subject has no field held by this system.' },
  FIELD_NOT_KEPT: { status: 400, message: 'Lethe keeps no expiry for this field of the subject.' },

  // Consent
  CONSENT_PURPOSE_UNKNOWN: { status: 400, message: 'The purpose is not in the purpose taxonomy.' },
  CONSENT_EMPTY: { status: 400, message: 'A consent record names no purpose.' },
  INVALID_CONSENT: { status: 400, message: 'A consent record does not match its schema.' },
  TCF_STRING_INVALID: { status: 400, message: 'The TC string cannot be decoded as an IAB TCF v2 string.' },
  TCF_VERSION_UNSUPPORTED: {
    status: 400,
    message: 'The TC string is not TCF v2 under policy version 4 (TCF v2.2) or later.',
  },

  // Rights requests
  INVALID_IDENTIFIER: { status: 400, message: 'An identifier is malformed: see details.field.' },
  IDENTIFIER_MISSING: { status: 400, message: 'A rights request needs at least one identifier.' },
  INVALID_REQUEST_TYPE: { status: 400, message: 'The request type is not dsar, delete or delete_pii.' },
  INVALID_STRATEGY: { status: 400, message: 'The strategy is not exact or connected.' },
  INVALID_JURISDICTION: { status: 400, message: 'The jurisdiction is not gdpr, ccpa, pipeda, lgpd or app.' },
  INVALID_ERASURE_CATEGORY: {
    status: 400,
    message: 'Request categories are known data categories, on a delete_pii request only: see details.field.',
  },
  DUPLICATE_ID: { status: 400, message: 'A request id appears twice in one import.' },
  CSV_INVALID: { status: 400, message: 'The CSV file cannot be read; see details.line.' },
  NO_EXTENSION: {
    status: 409,
    message: 'This jurisdiction allows no extension, or it was already extended.',
  },
  REQUEST_NOT_FOUND: { status: 404, message: 'No such rights request.' },
  REQUEST_EXISTS: { status: 409, message: 'A rights request with this id exists already.' },
  DUPLICATE_REQUEST: {
    status: 409,
    message: 'An open request of the same type names the same person; see details.requestId.',
  },
  REQUEST_STATE_CONFLICT: { status: 409, message: 'The request is not in a status that allows this step.' },
  TASK_NOT_FOUND: { status: 404, message: 'The request has no such task.' },
  TASK_STATE_CONFLICT: { status: 409, message: 'The task is not in a state that allows this step.' },
  PII_DESTROYED: {
    status: 410,
    message: "The request's personal data has been destroyed; only keyed hashes remain.",
  },
  NOT_A_DSAR: { status: 409, message: 'Only a DSAR has a package for the person.' },
  TICKET_RECORDS_TOO_LARGE: {
    status: 413,
    message: "A ticket's records hold more JSON than allowed (1 MiB in all).",
  },
  TICKET_FILE_TOO_LARGE: { status: 413, message: "A ticket's file is larger than allowed (5 MiB decoded)." },
  INVALID_TICKET_FILE: { status: 400, message: "A ticket's file is empty or not well-formed base64." },
  CONNECTOR_NOT_FOUND: { status: 404, message: 'No such SQL connector.' },
  CONNECTOR_INVALID: {
    status: 400,
    message: 'The connector configuration is invalid; see details.problems.',
  },
  CONNECTOR_SCHEMA_MISMATCH: {
    status: 400,
    message: "The connector configuration does not fit its database's catalog; see details.problems.",
  },

  // Privacy streams
  CONTRACT_INVALID: {
    status: 400,
    message: 'The data contract is invalid; see details.path and details.reason.',
  },
  CONTRACT_NOT_FOUND: { status: 404, message: 'No such data contract or contract version.' },
  CONTRACT_VERSION_EXISTS: {
    status: 409,
    message: 'This contract version exists with another content; versions are immutable, publish a new one.',
  },
  EVENT_REJECTED: {
    status: 400,
    message: 'The event does not conform to its data contract; see details.reasons.',
  },
  KEY_SHREDDED: {
    status: 409,
    message: 'The encryption key for this key-link value and period was shredded; it is never made again.',
  },
  STREAM_EXPORT_NOT_FOUND: { status: 404, message: 'No such stream export.' },
  STREAM_EXPORT_INVALID: {
    status: 400,
    message: 'The stream export configuration is invalid; see details.path.',
  },
  NATS_NOT_CONFIGURED: {
    status: 409,
    message: 'NATS is not configured on this server (NATS_URL); a NATS export cannot run.',
  },

  // Audit
  AUDIT_FAILED: {
    status: 503,
    message: 'The audit log could not be written, so the action was not performed.',
  },

  INTERNAL: { status: 500, message: 'Internal error; the request id identifies it in the server log.' },
  UNAVAILABLE: { status: 503, message: 'The server is not ready.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId?: string; details?: unknown };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}
