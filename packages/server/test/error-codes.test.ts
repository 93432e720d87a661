import { readFileSync } from 'node:fs';
import { ERRORS } from '@lethe/api';
import { describe, expect, it } from 'vitest';

// docs/api.md is where clients look a code up: a code added to the registry without a row there
// is a code nobody can read about.
const API_DOC = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');

/** The rows of the "Error codes" table: code → status. */
function documentedStatuses(markdown: string): Map<string, number> {
  const section = markdown.split('## Error codes')[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, number>();
  for (const match of section.matchAll(/^\| `([A-Z0-9_]+)` +\| (\d{3}) +\|/gm)) {
    rows.set(match[1] as string, Number(match[2]));
  }
  return rows;
}

describe('error codes', () => {
  const documented = documentedStatuses(API_DOC);

  it.each(Object.entries(ERRORS))(
    '%s is in the error table of docs/api.md with its status',
    (code, { status }) => {
      expect(documented.get(code)).toBe(status);
    },
  );

  it('lists no code the registry does not have', () => {
    expect([...documented.keys()].filter((code) => !Object.hasOwn(ERRORS, code))).toEqual([]);
  });
});
