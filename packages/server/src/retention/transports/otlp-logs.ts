import { createHash } from 'node:crypto';

/**
 * OpenTelemetry log records to usage events (docs/telemetry.md). Pure: the OTLP/HTTP request as
 * JSON decodes it (or protobuf decoded to the same shape) in, usage events out. A record is for
 * Lethe when it carries a `privacy.*` attribute; only those attributes are read, and the body and
 * every other attribute are dropped here, so the values of personal data a log line may hold
 * never reach the store.
 */

/** The attributes a usage event is made of. `privacy.system` may also be a resource attribute. */
export const PRIVACY_ATTRIBUTES = {
  subject: 'privacy.subject',
  policy: 'privacy.policy',
  fields: 'privacy.fields',
  system: 'privacy.system',
  eventId: 'privacy.event_id',
} as const;
const KEYS: ReadonlySet<string> = new Set(Object.values(PRIVACY_ATTRIBUTES));

/** A refused record: its position among all the request's records (in request order). */
export interface RecordRefusal {
  readonly index: number;
  readonly code: string;
  readonly message: string;
}

export interface MappedLogs {
  /** Every record in the request, counted in request order (resource, scope, record). */
  readonly records: number;
  /** Records without `privacy.*` attributes: not telemetry for Lethe, left alone. */
  readonly ignored: number;
  /** The usage events, for `TelemetryService.ingest`; `recordOf[i]` is event i's record index. */
  readonly events: Record<string, unknown>[];
  readonly recordOf: number[];
  /** Records refused before ingest (no time). */
  readonly refused: RecordRefusal[];
}

/** The request is not an OTLP logs request at all (`resourceLogs` is not a list). */
export class NotOtlpLogs extends Error {}

interface KeyValue {
  key?: unknown;
  value?: AnyValue;
}
interface AnyValue {
  stringValue?: unknown;
  intValue?: unknown;
  arrayValue?: { values?: AnyValue[] };
}
interface LogRecord {
  timeUnixNano?: unknown;
  observedTimeUnixNano?: unknown;
  attributes?: KeyValue[];
}

export function usageEventsOfLogs(request: unknown): MappedLogs {
  const resourceLogs = (request as { resourceLogs?: unknown } | null)?.resourceLogs;
  if (resourceLogs !== undefined && !Array.isArray(resourceLogs)) {
    throw new NotOtlpLogs('"resourceLogs" must be a list (OTLP ExportLogsServiceRequest).');
  }
  const mapped = { records: 0, ignored: 0, events: [], recordOf: [], refused: [] } as {
    -readonly [K in keyof MappedLogs]: MappedLogs[K];
  };
  for (const resource of (resourceLogs ?? []) as unknown[]) {
    const resourceAttributes = list<KeyValue>(
      (resource as { resource?: { attributes?: unknown } } | null)?.resource?.attributes,
    );
    const resourceSystem = privacyAttributes(resourceAttributes).get(PRIVACY_ATTRIBUTES.system);
    for (const scope of list<{ logRecords?: unknown }>(
      (resource as { scopeLogs?: unknown } | null)?.scopeLogs,
    )) {
      for (const record of list<LogRecord>(scope?.logRecords)) {
        const index = mapped.records;
        mapped.records += 1;
        const attributes = privacyAttributes(list<KeyValue>(record?.attributes));
        if (attributes.size === 0) {
          mapped.ignored += 1;
          continue;
        }
        const outcome = toEvent(attributes, resourceSystem, record);
        if ('refused' in outcome) mapped.refused.push({ index, ...outcome.refused });
        else {
          mapped.events.push(outcome.event);
          mapped.recordOf.push(index);
        }
      }
    }
  }
  return mapped;
}

function toEvent(
  attributes: ReadonlyMap<string, AnyValue>,
  resourceSystem: AnyValue | undefined,
  record: LogRecord,
): { event: Record<string, unknown> } | { refused: { code: string; message: string } } {
  const nanos = nonZero(record.timeUnixNano) ?? nonZero(record.observedTimeUnixNano);
  const ms = nanos === undefined ? undefined : Number(nanos / 1_000_000n);
  if (ms === undefined || ms > 8.64e15) {
    const message = 'The log record has neither a timeUnixNano nor an observedTimeUnixNano Lethe can read.';
    return { refused: { code: 'INVALID_TIME', message } };
  }
  const subject = scalar(attributes.get(PRIVACY_ATTRIBUTES.subject));
  const policy = scalar(attributes.get(PRIVACY_ATTRIBUTES.policy));
  const system = scalar(attributes.get(PRIVACY_ATTRIBUTES.system) ?? resourceSystem);
  const fields = fieldList(attributes.get(PRIVACY_ATTRIBUTES.fields));
  const given = scalar(attributes.get(PRIVACY_ATTRIBUTES.eventId));
  // Undefined attributes stay out, so that the telemetry service names what is missing.
  const event: Record<string, unknown> = { at: new Date(ms).toISOString() };
  if (subject !== undefined) event['subject'] = subject;
  if (system !== undefined) event['system'] = system;
  if (policy !== undefined) event['policy'] = policy;
  if (fields !== undefined) event['fields'] = fields;
  // An exporter's retry sends the same record again: the same id, so it is a duplicate.
  event['id'] = given ?? derivedId(subject, system, policy, fields, nanos!);
  return { event };
}

/**
 * An id from what makes the record a use (who, what, under which policy, when to the
 * nanosecond), hashed: a retried record is recognised; two uses identical to the nanosecond are
 * one use, which changes no expiry. Send `privacy.event_id` to count them apart.
 */
function derivedId(
  subject: unknown,
  system: unknown,
  policy: unknown,
  fields: unknown,
  nanos: bigint,
): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([subject, system, policy, fields, nanos.toString()]))
    .digest('base64url');
  return `otlp:${digest.slice(0, 32)}`;
}

function privacyAttributes(attributes: readonly KeyValue[]): Map<string, AnyValue> {
  const found = new Map<string, AnyValue>();
  for (const attribute of attributes) {
    if (typeof attribute?.key === 'string' && KEYS.has(attribute.key))
      found.set(attribute.key, attribute.value ?? {});
  }
  return found;
}

/** A string attribute (an integer one as its decimal text); anything else as it is, to be refused. */
function scalar(value: AnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.intValue === 'string' || typeof value.intValue === 'number') return String(value.intValue);
  return value;
}

/** A list of strings, or one string of comma-separated names (what a log attribute often is). */
function fieldList(value: AnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (typeof value.stringValue === 'string') {
    return value.stringValue
      .split(',')
      .map((field) => field.trim())
      .filter((field) => field !== '');
  }
  if (Array.isArray(value.arrayValue?.values)) return value.arrayValue.values.map(scalar);
  return value;
}

/** A time in nanoseconds (a decimal string in OTLP/JSON, a number from some encoders); 0 is none. */
function nonZero(value: unknown): bigint | undefined {
  let nanos: bigint;
  if (typeof value === 'string' && /^\d{1,30}$/.test(value)) nanos = BigInt(value);
  // A number past 2^53 has lost its last digits already; what is left is still the right millisecond.
  else if (typeof value === 'number' && Number.isFinite(value) && value >= 0)
    nanos = BigInt(Math.trunc(value));
  else return undefined;
  return nanos === 0n ? undefined : nanos;
}

function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}
