import type { HoldMark } from '@lethe/api';
import { coversKey } from '../../lib/taxonomy.js';
import { toIso } from '../../lib/time.js';
import type { HoldRow } from './hold-tables.js';

/** A hold's scope in lookup form. An absent list places no limit of its kind. */
export interface HoldScope {
  readonly name: string;
  readonly mark: HoldMark;
  readonly subjects?: ReadonlySet<string>;
  readonly systems?: ReadonlySet<string>;
  readonly categories?: readonly string[];
  readonly policies?: ReadonlySet<string>;
}

/** A field of a subject, as a hold sees it. */
export interface HeldCandidate {
  readonly subject: string;
  /** The system whose dataset declares the field (where the data lives). */
  readonly system: string;
  /** The field's data categories. */
  readonly categories: readonly string[];
  /** The policy that decides the field's expiry. */
  readonly policy: string;
}

export function holdScope(row: HoldRow): HoldScope {
  const list = (json: string | null) => (json === null ? undefined : (JSON.parse(json) as string[]));
  const set = (json: string | null) => {
    const values = list(json);
    return values === undefined ? undefined : new Set(values);
  };
  const categories = list(row.categories);
  return {
    name: row.name,
    mark: { name: row.name, reason: row.reason, by: row.created_by, since: toIso(row.created_at) },
    ...optional('subjects', set(row.subjects)),
    ...optional('systems', set(row.systems)),
    ...optional('categories', categories),
    ...optional('policies', set(row.policies)),
  };
}

/**
 * Whether `hold` covers the field: each list the hold has must match (subject and deciding policy
 * by name, system by the field's owner, categories when one of the field's categories lies at or
 * below one of the hold's). A hold without lists covers every field: a freeze of everything.
 */
export function holdCovers(hold: HoldScope, field: HeldCandidate): boolean {
  if (hold.subjects && !hold.subjects.has(field.subject)) return false;
  if (hold.systems && !hold.systems.has(field.system)) return false;
  if (hold.policies && !hold.policies.has(field.policy)) return false;
  if (hold.categories && !coversCategories(hold.categories, field.categories)) return false;
  return true;
}

/** Whether one of a field's categories lies at or below one of a hold's. */
function coversCategories(held: readonly string[], fieldCategories: readonly string[]): boolean {
  return fieldCategories.some((category) => held.some((key) => coversKey(key, category)));
}

/**
 * A hold as lists of column values, for counting in SQL what holds keep (the overview): it covers
 * a field expiry when every list holds the row's value; an absent list places no limit. Categories
 * become the declared fields they cover, systems stay the field's owner.
 */
export interface HoldColumns {
  readonly subjects?: readonly string[];
  readonly systems?: readonly string[];
  readonly fields?: readonly string[];
  readonly policies?: readonly string[];
}

export function holdColumns(
  hold: HoldScope,
  declaredFields: readonly string[],
  categoriesOf: (field: string) => readonly string[],
): HoldColumns {
  const list = (values: ReadonlySet<string> | undefined) => (values ? [...values] : undefined);
  const categories = hold.categories;
  return {
    ...optional('subjects', list(hold.subjects)),
    ...optional('systems', list(hold.systems)),
    ...optional(
      'fields',
      categories && declaredFields.filter((field) => coversCategories(categories, categoriesOf(field))),
    ),
    ...optional('policies', list(hold.policies)),
  };
}

/** The first hold (by name) that covers the field, or undefined when none does. */
export function holdOf(holds: readonly HoldScope[], field: HeldCandidate): HoldScope | undefined {
  return holds.find((hold) => holdCovers(hold, field));
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
