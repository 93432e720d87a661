import { TEXT_PATTERN } from '@lethe/api';
import { culprit } from './id-rule.js';

/**
 * The text rule (`TEXT_PATTERN` of `@lethe/api`): any well-formed text without NUL. PostgreSQL
 * refuses NUL in a text column (22021) and SQLite keeps a lone surrogate as invalid UTF-8, so
 * neither may reach a store. Searched for, not matched whole: a `^(…)*$` over a string of a
 * megabyte backtracks one step per character.
 */
const BROKEN = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const TEXT = new RegExp(TEXT_PATTERN);

/** Why `value` breaks the text rule (`holds U+D800, a lone surrogate …`), or undefined. */
export function textProblem(value: string): string | undefined {
  return BROKEN.test(value) ? culprit(value, TEXT) : undefined;
}

/** The first string in a parsed JSON value that breaks the text rule, and where it is. */
export interface BadText {
  /** A JSON pointer (`/teams/1/description`, empty for the root); for a name, its object. */
  readonly path: string;
  readonly problem: string;
  /** The fault is in a property name, not a value. */
  readonly inName: boolean;
}

/**
 * Walks a parsed value (a JSON body, a query or path parameters) for the first string, value or
 * property name, that breaks the text rule. Iterative, with its own stack: a body nested a
 * hundred thousand levels deep costs memory bounded by the body limit, not the call stack.
 */
export function findBadText(root: unknown): BadText | undefined {
  const stack: { value: unknown; path: string }[] = [{ value: root, path: '' }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem !== undefined) return { path, problem, inName: false };
    } else if (Array.isArray(value)) {
      // Pushed last to first: the first fault in document order is found first.
      for (let index = value.length - 1; index >= 0; index -= 1) {
        stack.push({ value: value[index], path: `${path}/${index}` });
      }
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (const [name] of entries) {
        const problem = textProblem(name);
        if (problem !== undefined) return { path, problem, inName: true };
      }
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [name, child] = entries[index]!;
        stack.push({ value: child, path: `${path}/${pointerToken(name)}` });
      }
    }
  }
  return undefined;
}

/** A property name as a JSON pointer token (RFC 6901: `~` as `~0`, `/` as `~1`). */
function pointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}
