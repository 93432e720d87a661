import { PII_TAG, type ConnectorTable, type EraseMode, type Mask } from '@lethe/api';
import type { ColumnType } from './column-types.js';

/**
 * Which columns an erasure rewrites, and how (docs/rights-requests.md, "Erasure per table and per
 * column"). Pure: the catalog's column facts come in, the resolved rewrites or the problems go out,
 * so that a mask that cannot fit its column stops the run before any row is changed.
 */

/** A column of the config, whichever way it was written (a tag array or an object). */
export interface ColumnRules {
  readonly tags: readonly string[];
  readonly categories: readonly string[];
  readonly mask: Mask | undefined;
}

/** The root of the data categories that are about a person (`user.contact.email`, `user.name`). */
const PERSONAL_ROOT = 'user';
/** The text a NOT NULL text column without a mask is rewritten to (cut to the column's length). */
export const ERASED_TEXT = 'erased';
/** hmac: the hex digest's length; random: the text's length (both cut to the column's length). */
export const HMAC_LENGTH = 64;
export const RANDOM_LENGTH = 32;

export function columnRules(spec: ConnectorTable['columns'][string]): ColumnRules {
  if (Array.isArray(spec)) return { tags: spec, categories: [], mask: undefined };
  return { tags: spec.tags ?? [], categories: spec.categories ?? [], mask: spec.mask };
}

/** Personal: tagged `compliance/pii`, or of a `user.*` data category. delete_pii and `erase: fields` rewrite it. */
export function isPersonal(rules: ColumnRules): boolean {
  return rules.tags.includes(PII_TAG) || rules.categories.some((key) => covers(PERSONAL_ROOT, key));
}

/** `true` when `key` equals `filter` or lies below it (lib/taxonomy.ts `coversKey`). */
function covers(filter: string, key: string): boolean {
  return key === filter || key.startsWith(`${filter}.`);
}

/**
 * Whether a personal column is erased by a request limited to `requested` categories: without a
 * list, every personal column; with one, the columns of a category under one of them (a column
 * with no category, tagged `compliance/pii` only, is then left).
 */
export function erasedFor(rules: ColumnRules, requested: readonly string[] | undefined): boolean {
  if (!isPersonal(rules)) return false;
  if (requested === undefined) return true;
  return rules.categories.some((key) => requested.some((filter) => covers(filter, key)));
}

/** What the run does to a table's own rows. */
export type TableErasure = 'delete' | 'mask' | 'keep';

export function tableErasure(type: 'delete' | 'delete_pii', erase: EraseMode | undefined): TableErasure {
  if (erase === 'never') return 'keep';
  if (type === 'delete' && (erase ?? 'row') === 'row') return 'delete';
  return 'mask';
}

/** A column's catalog facts that decide how it may be rewritten. */
export interface ColumnFacts {
  readonly type: ColumnType;
  readonly nullable: boolean;
  /** Characters; undefined when unbounded or unknown (SQLite). */
  readonly maxLength: number | undefined;
}

/**
 * One column's rewrite: the same value for every row (`set`, NULL included), or one per row
 * (`hmac` of the row's value, `random`), never longer than `length` characters.
 */
export type ResolvedMask =
  | { readonly kind: 'set'; readonly value: string | number | null }
  | { readonly kind: 'hmac'; readonly length: number }
  | { readonly kind: 'random'; readonly length: number };

const TEXT_KINDS: ReadonlySet<string> = new Set(['text', 'any']);
const NUMERAL = /^-?[0-9]+(\.[0-9]+)?$/;
/** SQLite gives a column declared DATE, DATETIME or BOOLEAN numeric affinity: it is no number to rewrite. */
const NOT_A_NUMBER_DECLARED = /DATE|TIME|BOOL/i;

function isNumber(type: ColumnType): boolean {
  return type.kind === 'integer' || (type.kind === 'decimal' && !NOT_A_NUMBER_DECLARED.test(type.declared));
}

/**
 * The rewrite of `column` (its mask, or the default: NULL if nullable, else `'erased'` for text
 * and 0 for numbers), or why it cannot fit the column.
 */
export function resolveMask(
  column: string,
  mask: Mask | undefined,
  facts: ColumnFacts,
): ResolvedMask | { readonly problem: string } {
  const { type, nullable, maxLength } = facts;
  const isText = TEXT_KINDS.has(type.kind);
  const cut = (length: number) => Math.min(length, maxLength ?? length);
  const where = `column '${column}' (${type.declared || 'no declared type'}${nullable ? '' : ', NOT NULL'})`;
  switch (mask?.strategy) {
    case undefined:
      if (nullable) return { kind: 'set', value: null };
      if (isText) return { kind: 'set', value: ERASED_TEXT.slice(0, cut(ERASED_TEXT.length)) };
      if (isNumber(type)) return { kind: 'set', value: 0 };
      return { problem: `${where} is NOT NULL and not text or a number: give it a mask` };
    case 'null':
      if (!nullable) return { problem: `${where} cannot be masked with null` };
      return { kind: 'set', value: null };
    case 'fixed':
      if (isText && maxLength !== undefined && [...mask.value].length > maxLength) {
        return { problem: `${where}: the fixed value is longer than ${maxLength} characters` };
      }
      if (isNumber(type) && !NUMERAL.test(mask.value)) {
        return { problem: `${where}: the fixed value '${mask.value}' is not a number` };
      }
      if (type.kind === 'integer' && mask.value.includes('.')) {
        return { problem: `${where}: the fixed value '${mask.value}' is not an integer` };
      }
      return { kind: 'set', value: isNumber(type) ? Number(mask.value) : mask.value };
    case 'hmac':
    case 'random':
      if (!isText) return { problem: `${where}: a ${mask.strategy} mask needs a text column` };
      return mask.strategy === 'hmac'
        ? { kind: 'hmac', length: cut(HMAC_LENGTH) }
        : { kind: 'random', length: cut(RANDOM_LENGTH) };
  }
}
