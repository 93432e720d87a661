import type { Identifiers } from '@lethe/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeIdentifiers,
  hashIdentifier,
  IdentifierError,
  identifierHashes,
  normaliseIdentifiers,
  type CountryCode,
} from './identifiers.js';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);

const failure = (input: Identifiers, defaultCountry?: CountryCode): IdentifierError => {
  try {
    normaliseIdentifiers(input, { defaultCountry });
  } catch (error) {
    if (error instanceof IdentifierError) return error;
    throw error;
  }
  throw new Error('expected an IdentifierError');
};

describe('normaliseIdentifiers: email', () => {
  it.each([
    ['ann@example.com', 'ann@example.com'],
    ['  Ann.Smith@Example.COM \t', 'ann.smith@example.com'],
    ['ANN+tag@EXAMPLE.co.uk', 'ann+tag@example.co.uk'],
    ['Zoë@Example.com', 'zoë@example.com'],
    // Decomposed ë (e + U+0308) becomes the composed one, so both spellings hash alike.
    ['Zoe\u0308@example.com', 'zoë@example.com'],
  ])('%j → %j', (input, expected) => {
    expect(normaliseIdentifiers({ email: input })).toEqual({ email: expected });
  });

  it.each([
    '',
    '   ',
    'ann',
    'ann@',
    '@example.com',
    'ann@@example.com',
    'a@b@c',
    'ann smith@example.com',
    'ann@exa mple.com',
  ])('rejects %j', (input) => {
    const error = failure({ email: input });
    expect(error.code).toBe('INVALID_IDENTIFIER');
    expect(error.field).toBe('email');
  });

  it('rejects an email longer than the API allows', () => {
    expect(failure({ email: `${'a'.repeat(310)}@example.com` }).field).toBe('email');
  });
});

describe('normaliseIdentifiers: phone', () => {
  it.each<[string, CountryCode | undefined, string]>([
    ['020 7946 0018', 'GB', '+442079460018'],
    ['07911 123456', 'GB', '+447911123456'],
    ['+44 (0)20 7946 0018', undefined, '+442079460018'],
    ['+44 7911 123456', 'US', '+447911123456'],
    ['(201) 555-0123', 'US', '+12015550123'],
    ['+1 415-555-2671', undefined, '+14155552671'],
    ['030 12345678', 'DE', '+493012345678'],
    ['0151 23456789', 'DE', '+4915123456789'],
    ['+49 30 12345678', 'GB', '+493012345678'],
    ['00 44 20 7946 0018', 'DE', '+442079460018'],
  ])('%j in %s → %s', (input, country, expected) => {
    expect(normaliseIdentifiers({ phone: input }, { defaultCountry: country })).toEqual({ phone: expected });
  });

  it.each<[string, CountryCode | undefined]>([
    ['abc', 'GB'],
    ['12', 'GB'],
    ['+1 555 555 5555', undefined],
    ['+44 0000 000000', undefined],
    // A national number with no country to read it in.
    ['020 7946 0018', undefined],
    // Right length for Germany, but no such number range: only the `max` metadata knows.
    ['123456', 'DE'],
  ])('rejects %j in %s', (input, country) => {
    const error = failure({ phone: input }, country);
    expect(error.code).toBe('INVALID_IDENTIFIER');
    expect(error.field).toBe('phone');
  });
});

describe('normaliseIdentifiers: address', () => {
  it('trims, collapses whitespace, drops empty parts and upper-cases a country code', () => {
    expect(
      normaliseIdentifiers({
        address: {
          address: '  10   Downing\tStreet ',
          address2: '   ',
          city: ' London\n',
          postal: 'SW1A  2AA',
          country: 'gb',
        },
      }),
    ).toEqual({
      address: { address: '10 Downing Street', city: 'London', postal: 'SW1A 2AA', country: 'GB' },
    });
  });

  it('leaves a longer country name as written', () => {
    expect(normaliseIdentifiers({ address: { address: '1 Main St', country: 'United  kingdom' } })).toEqual({
      address: { address: '1 Main St', country: 'United kingdom' },
    });
  });

  it('requires the address line itself', () => {
    const error = failure({ address: { address: '  ', city: 'London' } });
    expect([error.code, error.field]).toEqual(['INVALID_IDENTIFIER', 'address.address']);
  });

  it('names the part that is too long', () => {
    expect(failure({ address: { address: '1 Main St', postal: '9'.repeat(33) } }).field).toBe(
      'address.postal',
    );
  });
});

describe('normaliseIdentifiers: subject and custom keys', () => {
  it('keeps them exactly, case and spaces included', () => {
    const input = { subject: 'User-42', customKey: ' ABC ', customKey2: 'x', customKey3: 'Ä b' };
    expect(normaliseIdentifiers(input)).toEqual(input);
  });

  it.each(['subject', 'customKey', 'customKey2', 'customKey3'] as const)('rejects a blank %s', (key) => {
    const error = failure({ [key]: ' ' });
    expect([error.code, error.field]).toEqual(['INVALID_IDENTIFIER', key]);
  });

  it('requires at least one identifier', () => {
    const error = failure({});
    expect([error.code, error.field]).toEqual(['IDENTIFIER_MISSING', 'identifiers']);
  });
});

const identifiersArbitrary: fc.Arbitrary<Identifiers> = fc.record(
  {
    subject: fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
    email: fc.oneof(
      fc.emailAddress().map((email) => ` ${email.toUpperCase()} `),
      fc.string({ maxLength: 30, unit: 'grapheme' }),
    ),
    phone: fc.oneof(
      fc.constantFrom('020 7946 0018', '+1 415 555 2671', '0151 23456789', '+49 30 12345678'),
      fc.string({ maxLength: 20 }),
    ),
    address: fc.record(
      {
        address: fc.string({ maxLength: 30, unit: 'grapheme' }),
        address2: fc.string({ maxLength: 10, unit: 'grapheme' }),
        city: fc.string({ maxLength: 10, unit: 'grapheme' }),
        country: fc.oneof(fc.constantFrom('gb', ' de ', 'Fr'), fc.string({ maxLength: 4 })),
      },
      { requiredKeys: ['address'] },
    ),
    customKey: fc.string({ maxLength: 10, unit: 'grapheme' }),
  },
  { requiredKeys: [] },
);

describe('normaliseIdentifiers: properties', () => {
  it('is idempotent, and only ever throws IdentifierError', () => {
    fc.assert(
      fc.property(identifiersArbitrary, (input) => {
        let once: Identifiers;
        try {
          once = normaliseIdentifiers(input, { defaultCountry: 'GB' });
        } catch (error) {
          if (error instanceof IdentifierError) return;
          throw error;
        }
        expect(normaliseIdentifiers(once)).toEqual(once);
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent on identifiers that are valid however they are spaced and cased', () => {
    const spaced = (text: string) =>
      fc
        .tuple(fc.constantFrom('', ' ', '\t', '  '), fc.constantFrom('', ' ', '\n'))
        .map(([before, after]) => before + text + after);
    const valid = fc.record({
      email: fc.emailAddress().chain((email) => spaced(email.toUpperCase())),
      phone: fc.constantFrom('020 7946 0018', '07911 123456', '+1 415 555 2671', '+49 151 23456789'),
      address: fc.record({
        address: fc
          .string({ minLength: 1, maxLength: 40, unit: 'grapheme' })
          .filter((text) => text.trim() !== '')
          .chain(spaced),
        city: fc.string({ maxLength: 20, unit: 'grapheme' }),
        country: fc.constantFrom('gb', 'De', 'united kingdom', ' '),
      }),
    });
    fc.assert(
      fc.property(valid, (input) => {
        const once = normaliseIdentifiers(input, { defaultCountry: 'GB' });
        expect(normaliseIdentifiers(once)).toEqual(once);
        // Hashing normalises too, so raw and normalised identifiers give the same hashes.
        expect(identifierHashes({ ...input, phone: once.phone }, KEY)).toEqual(identifierHashes(once, KEY));
      }),
      { numRuns: 300 },
    );
  });
});

describe('identifierHashes', () => {
  it('hashes each identifier as 64 hex characters, in a fixed order', () => {
    const hashes = identifierHashes(
      { email: 'ann@example.com', phone: '+442079460018', subject: 'u1', customKey2: 'k' },
      KEY,
    );
    expect(hashes.map((entry) => entry.semantic)).toEqual(['subject-id', 'email', 'phone', 'custom-key-2']);
    for (const { hash } of hashes) expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same hash for the same person however the identifiers were typed', () => {
    const typed = identifierHashes(
      { email: ' ANN@Example.com', address: { address: '10  Downing St', city: 'LONDON', country: 'gb' } },
      KEY,
    );
    const stored = identifierHashes(
      { email: 'ann@example.com', address: { address: '10 downing st', city: 'London', country: 'GB' } },
      KEY,
    );
    expect(typed).toEqual(stored);
  });

  it('depends on the key', () => {
    expect(identifierHashes({ email: 'ann@example.com' }, KEY)).not.toEqual(
      identifierHashes({ email: 'ann@example.com' }, OTHER_KEY),
    );
  });

  it('separates semantics: one value under two semantics gives two hashes', () => {
    const value = 'ann@example.com';
    const hashes = identifierHashes(
      { subject: value, email: value, customKey: value, customKey2: value, customKey3: value },
      KEY,
    ).map((entry) => entry.hash);
    expect(new Set(hashes).size).toBe(5);
  });

  it('does not confuse address parts that move between fields', () => {
    const one = identifierHashes({ address: { address: '1 Main St', city: 'Springfield' } }, KEY);
    const two = identifierHashes({ address: { address: '1 Main St Springfield' } }, KEY);
    const three = identifierHashes({ address: { address: '1 Main St', address2: 'Springfield' } }, KEY);
    expect(new Set([one, two, three].map((hashes) => hashes[0]?.hash)).size).toBe(3);
  });

  it('refuses a short key', () => {
    expect(() => identifierHashes({ email: 'ann@example.com' }, Buffer.alloc(16))).toThrow(RangeError);
  });

  it('is a keyed HMAC-SHA-256 of "semantic NUL value" (pinned: stored hashes must stay valid)', () => {
    expect(hashIdentifier('subject-id', 'user-1', KEY)).toBe(
      '238a463dde473c27c14b2bd00be78c771bb00ec0d57bf414a4d6356a23fbdf7e',
    );
    expect(identifierHashes({ email: 'Ann@example.com' }, KEY)).toEqual([
      { semantic: 'email', hash: '9daa5146a736f7f73a1003d3ef961c48804cfa9390bb84306ae170539f043bc9' },
    ]);
  });
});

describe('hashIdentifier', () => {
  it('matches identifierHashes for each semantic', () => {
    const identifiers: Identifiers = {
      subject: 'User-1',
      email: 'ann@example.com',
      phone: '+447911123456',
      address: { address: '1 Main St', country: 'GB' },
      customKey: 'a',
      customKey2: 'b',
      customKey3: 'c',
    };
    const stored = new Map(identifierHashes(identifiers, KEY).map((entry) => [entry.semantic, entry.hash]));
    expect(hashIdentifier('subject-id', 'User-1', KEY)).toBe(stored.get('subject-id'));
    expect(hashIdentifier('email', ' Ann@EXAMPLE.com ', KEY)).toBe(stored.get('email'));
    expect(hashIdentifier('phone', '+44 7911 123456', KEY)).toBe(stored.get('phone'));
    expect(hashIdentifier('address', { address: '1  MAIN st', country: 'gb' }, KEY)).toBe(
      stored.get('address'),
    );
    expect(hashIdentifier('custom-key', 'a', KEY)).toBe(stored.get('custom-key'));
    expect(hashIdentifier('custom-key-2', 'b', KEY)).toBe(stored.get('custom-key-2'));
    expect(hashIdentifier('custom-key-3', 'c', KEY)).toBe(stored.get('custom-key-3'));
  });

  it('hashes subject ids exactly, case-sensitively', () => {
    expect(hashIdentifier('subject-id', 'user-1', KEY)).not.toBe(hashIdentifier('subject-id', 'User-1', KEY));
  });
});

describe('describeIdentifiers', () => {
  it('masks each identifier', () => {
    expect(
      describeIdentifiers({
        email: 'ann.smith@example.com',
        phone: '+447911123489',
        address: { address: '10 Downing Street', city: 'London', country: 'GB' },
        customKey: 'CUST-123',
        subject: 'user-42',
      }),
    ).toBe('a***@example.com, +44********89, address (London GB), subject-id u***, custom-key C***');
  });

  it('shows no part of the street, postal code or full keys', () => {
    const text = describeIdentifiers({
      address: { address: '10 Downing Street', postal: 'SW1A 2AA' },
      customKey3: 'secret-key',
    });
    expect(text).toBe('address, custom-key-3 s***');
  });

  it('says when there is nothing', () => {
    expect(describeIdentifiers({})).toBe('no identifiers');
  });
});
