import { TEXT_PATTERN } from '@lethe/api';
import { culprit } from './id-rule.js';

/**
 * The text rule (`TEXT_PATTERN` of `@lethe/api`): any well-formed text without NUL. PostgreSQL
 * refuses NUL in a text column (22021) and SQLite keeps a lone surrogate as invalid UTF-8, so
 * neither may reach a store. Searched for, not matched whole: a `^(…)*$` over a string of a
 * megabyte backtracks one step per character.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const TEXT = new RegExp(TEXT_PATTERN);

/** Why `value` breaks the text rule (`holds U+D800, a lone surrogate …`), or undefined. */
export function textProblem(value: string): string | undefined {
  const broken = value.includes('\u0000') || LONE_SURROGATE.test(value);
  return broken ? culprit(value, TEXT) : undefined;
}

/**
 * How deep a body may nest (arrays and objects). A contract's JSON Schema inside a manifest is
 * some 20 levels; a ticket's open records nested 10,000 deep made `JSON.stringify` overflow the
 * stack when they were stored, a 500.
 */
export const MAX_DEPTH = 128;

/** The first string in a parsed JSON value that breaks the text rule, and where it is. */
export interface BadText {
  /** A JSON pointer (`/teams/1/description`, empty for the root); for a name, its object. */
  readonly path: string;
  readonly problem: string;
  /** The fault is in a property name, not a value. */
  readonly inName: boolean;
  /** The fault is the nesting: the value at `path` lies deeper than `MAX_DEPTH`. */
  readonly tooDeep: boolean;
}

/**
 * Walks a parsed value (a JSON body, a query or path parameters) for the first string, value or
 * property name, that breaks the text rule, or for nesting deeper than `MAX_DEPTH`. Iterative,
 * with its own stack, so that no nesting overflows the call stack. The walk keeps no paths (a
 * body of a megabyte holds some 100,000 strings); the path of a fault is found by a second walk
 * that does.
 */
export function findBadText(root: unknown): BadText | undefined {
  return isClean(root) ? undefined : locate(root);
}

function isClean(root: unknown): boolean {
  // Two stacks rather than one of pairs: nothing allocated per value.
  const values: unknown[] = [root];
  const depths: number[] = [0];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (typeof value === 'string') {
      if (textProblem(value) !== undefined) return false;
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(value)) {
        for (const item of value) values.push(item);
        for (let n = 0; n < value.length; n += 1) depths.push(depth + 1);
      } else {
        for (const name in value) {
          if (textProblem(name) !== undefined) return false;
          values.push((value as Record<string, unknown>)[name]);
          depths.push(depth + 1);
        }
      }
    }
  }
  return true;
}

function locate(root: unknown): BadText | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: '', depth: 0 }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, path, depth } = next;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem !== undefined) return { path, problem, inName: false, tooDeep: false };
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_DEPTH) {
        return { path, problem: `is nested deeper than ${MAX_DEPTH} levels`, inName: false, tooDeep: true };
      }
      // Pushed last to first: the first fault in document order is found first.
      const entries = Array.isArray(value)
        ? value.map((item, index): [string, unknown] => [String(index), item])
        : Object.entries(value as Record<string, unknown>);
      for (const [name] of entries) {
        const problem = Array.isArray(value) ? undefined : textProblem(name);
        if (problem !== undefined) return { path, problem, inName: true, tooDeep: false };
      }
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [name, child] = entries[index]!;
        stack.push({ value: child, path: `${path}/${pointerToken(name)}`, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/**
 * Whether a value nests deeper than `MAX_DEPTH`: for the open payloads of batch items (a stream
 * event's `data`), whose text is their producer's but whose nesting must not reach a store.
 */
export function nestsTooDeep(root: unknown): boolean {
  const values: unknown[] = [root];
  const depths: number[] = [0];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_DEPTH) return true;
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      values.push(child);
      depths.push(depth + 1);
    }
  }
  return false;
}

/** A property name as a JSON pointer token (RFC 6901: `~` as `~0`, `/` as `~1`). */
function pointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}
