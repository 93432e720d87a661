import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { maySeeCategories } from '../auth/category-scope.js';
import type { Principal } from '../auth/principal.js';

/**
 * Why a request's plan reaches a system or database, as `request-planner.ts` finds it and
 * `request_tasks.reasons` stores it (a JSON array). Kept structured, not as text, so that what a
 * category-limited token may read is decided on the fields and categories themselves; the API
 * gets the text (`reasonText`) only after that.
 */
export const TaskReason = Type.Union([
  /** The subject's telemetry: the system used `field` under `policy`. */
  Type.Object({ kind: Type.Literal('telemetry-used'), field: Type.String(), policy: Type.String() }),
  /** The system owns the dataset declaring `field`, which another system used for the subject. */
  Type.Object({ kind: Type.Literal('telemetry-holds'), field: Type.String() }),
  /**
   * The data map: the system stores, sends or receives (along `via`, system names from where the
   * data enters) covered keys of the person's categories.
   */
  Type.Object({
    kind: Type.Literal('datamap'),
    how: Type.Union([Type.Literal('stores'), Type.Literal('sends'), Type.Literal('receives')]),
    categories: Type.Array(Type.String(), { minItems: 1 }),
    via: Type.Array(Type.String()),
  }),
  /** The system has neither a rights client nor a connector: its owning team gets a ticket. */
  Type.Object({ kind: Type.Literal('no-rights-client') }),
  /** A SQL connector: every connector is searched. */
  Type.Object({ kind: Type.Literal('sql-connector') }),
  /** An erasure task a standing legal hold kept from running (`held`); `hold` is its name. */
  Type.Object({ kind: Type.Literal('legal-hold'), hold: Type.String() }),
]);
export type TaskReason = Static<typeof TaskReason>;

/**
 * A stored reason this version cannot classify: a plain string written before reasons were
 * structured, or an object of a kind it does not know. Its text may name anything, so only a
 * token without category limits reads it (deny by default).
 */
export interface OpaqueReason {
  readonly kind: 'opaque';
  readonly text: string;
}

export type StoredReason = TaskReason | OpaqueReason;

/** A task's `reasons` column read back; never throws, so that no stored row stops a read. */
export function readReasons(json: string): StoredReason[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [{ kind: 'opaque', text: json }];
  }
  if (!Array.isArray(parsed)) return [{ kind: 'opaque', text: json }];
  return parsed.map((item: unknown): StoredReason => {
    if (typeof item === 'string') return { kind: 'opaque', text: item };
    if (Value.Check(TaskReason, item)) return item;
    return { kind: 'opaque', text: JSON.stringify(item) };
  });
}

/**
 * `reason` as `principal` may read it, or undefined when it may not: a field named by telemetry
 * only if the token sees one of the field's categories; a data-map reason narrowed to the
 * categories the token sees, none left and it goes. Every kind needs its rule here (the switch
 * is exhaustive), so a new kind cannot reach a limited token by default.
 */
export function visibleReason(
  principal: Principal,
  reason: StoredReason,
  fieldCategories: ReadonlyMap<string, readonly string[]>,
): StoredReason | undefined {
  if (principal.categories === undefined) return reason;
  switch (reason.kind) {
    case 'telemetry-used':
    case 'telemetry-holds':
      // A field without categories is hidden from such a token, as everywhere.
      return maySeeCategories(principal, fieldCategories.get(reason.field) ?? []) ? reason : undefined;
    case 'datamap': {
      const categories = reason.categories.filter((category) => maySeeCategories(principal, [category]));
      return categories.length > 0 ? { ...reason, categories } : undefined;
    }
    case 'no-rights-client':
    case 'sql-connector':
      return reason; // names no field and no category
    case 'legal-hold':
      // Holds are read only by tokens without category limits (a hold may span every category).
      return undefined;
    case 'opaque':
      return undefined;
    default:
      return denied(reason);
  }
}

/** The text the API shows for a reason (`RequestTask.reasons`, `PlannedTarget.reasons`). */
export function reasonText(reason: StoredReason): string {
  switch (reason.kind) {
    case 'telemetry-used':
      return `telemetry: used ${reason.field} under ${reason.policy}`;
    case 'telemetry-holds':
      return `telemetry: holds ${reason.field}`;
    case 'datamap':
      return reason.how === 'receives'
        ? `data map: receives ${reason.categories.join(', ')} via ${reason.via.join(' → ')}`
        : `data map: ${reason.how} ${reason.categories.join(', ')}`;
    case 'no-rights-client':
      return 'no rights client: the owning team gets a ticket';
    case 'sql-connector':
      return 'SQL connector: searched directly';
    case 'legal-hold':
      return `legal hold "${reason.hold}": kept, not erased`;
    case 'opaque':
      return reason.text;
    default:
      return unknownKind(reason);
  }
}

/** The reasons `principal` may read, as the API's text. */
export function visibleReasonTexts(
  principal: Principal,
  reasons: readonly StoredReason[],
  fieldCategories: ReadonlyMap<string, readonly string[]>,
): string[] {
  return reasons.flatMap((reason) => {
    const visible = visibleReason(principal, reason, fieldCategories);
    return visible === undefined ? [] : [reasonText(visible)];
  });
}

/** Fails to compile when a kind has no visibility rule; at run time (a cast gone wrong) it denies. */
function denied(_reason: never): undefined {
  return undefined;
}

/** Fails to compile when a kind has no text; `readReasons` yields no other kind at run time. */
function unknownKind(reason: never): never {
  throw new Error(`A task reason of unknown kind: ${JSON.stringify(reason)}`);
}
