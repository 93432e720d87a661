import { ID_PATTERN, TEXT_PATTERN } from '@lethe/api';
import type { SchemaProblem } from './schema-check.js';

/**
 * The id rule of `@lethe/api` (`ID_PATTERN`: well-formed text without control characters) for
 * the entry points no HTTP schema guards: NDJSON and CSV lines, stream-event attributes, NATS;
 * and the words for it (and for `TEXT_PATTERN`, no NUL and no lone surrogate) in a rejection.
 */
const ID = new RegExp(ID_PATTERN);
const TEXT = new RegExp(TEXT_PATTERN);

/**
 * Why `value` is not an id of at most `maxLength` characters, or undefined when it is one. The
 * reason names the first character at fault, e.g. `holds U+D800, a lone surrogate …`.
 */
export function idProblem(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0 || value.length > maxLength) return `must be 1 to ${maxLength} characters long`;
  return ID.test(value) ? undefined : culprit(value, ID);
}

/**
 * The first character that breaks `rule` (`holds U+0000, a control character`). A string
 * iterates by code point (a lone surrogate on its own), and one code point breaks either rule
 * exactly when it is one the rule refuses.
 */
export function culprit(value: string, rule: RegExp): string {
  const character = [...value].find((candidate) => !rule.test(candidate)) ?? value;
  const code = character.codePointAt(0) ?? 0;
  const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const surrogate = code >= 0xd800 && code <= 0xdfff;
  return `holds ${name}, ${surrogate ? 'a lone surrogate (not valid Unicode text)' : 'a control character'}`;
}

/**
 * A schema problem (`schema-check.ts`) as a line or event rejection states it (`/subject: …`), in
 * the rules' words where an id or a text broke one, rather than as the pattern the schema holds.
 */
export function schemaProblem(problem: SchemaProblem | undefined, fallback: string): string {
  if (problem === undefined) return fallback;
  const where = problem.path ? `${problem.path}: ` : '';
  const { pattern } = problem.schema as { pattern?: string };
  const rule = pattern === ID_PATTERN ? ID : pattern === TEXT_PATTERN ? TEXT : undefined;
  if (rule === undefined || problem.kind !== 'pattern') return `${where}${problem.message}`;
  return `${where}${culprit(String(problem.value), rule)}`;
}
