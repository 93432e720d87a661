import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_ADMIN_URL } from './support/backends.js';
import { bigintArray, textArray } from '../src/store/postgres/array-literal.js';

const reachable = await new pg.Client({
  connectionString: POSTGRES_ADMIN_URL,
  connectionTimeoutMillis: 2_000,
})
  .connect()
  .then(
    (client) => client.end().then(() => true),
    (error: unknown) => {
      if (process.env['CI'] === 'true') throw error;
      return false;
    },
  );

describe.skipIf(!reachable)('PostgreSQL array literals (skipped without PostgreSQL)', () => {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  beforeAll(() => client.connect());
  afterAll(() => client.end());

  it('read back as the strings and integers they were built from (property)', async () => {
    // Any text PostgreSQL stores (no NUL), quotes, backslashes, braces, commas, NULL and blanks.
    const text = fc
      .oneof(
        fc.string({ unit: 'grapheme' }),
        fc.constantFrom('NULL', 'null', '', ' ', '{}', 'a,b', '"', '\\', '\\"'),
      )
      .map((value) => value.replaceAll('\u0000', ''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(text, { maxLength: 20 }),
        fc.array(fc.option(fc.integer({ min: -8.64e15, max: 8.64e15 }), { nil: null }), { maxLength: 20 }),
        async (strings, numbers) => {
          const { rows } = await client.query<{ t: string[]; n: (string | null)[] }>(
            'select $1::text[] as t, $2::bigint[] as n',
            [textArray(strings), bigintArray(numbers)],
          );
          expect(rows[0]?.t).toEqual(strings);
          expect(rows[0]?.n?.map((value) => (value === null ? null : Number(value)))).toEqual(numbers);
        },
      ),
      { numRuns: 200 },
    );
  });
});
