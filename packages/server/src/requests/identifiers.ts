/**
 * The identifiers of a rights request, in one canonical form, so that the same person gives the
 * same value whichever way it was typed, and keyed hashes of them, which are all that remains of a
 * request once it is done (DESIGN.md §6): they form the suppression list of deleted people.
 */
import { createHmac } from 'node:crypto';
import {
  ADDRESS_PARTS,
  AddressGroup as AddressGroupSchema,
  Identifiers as IdentifiersSchema,
  type AddressGroup,
  type ErrorCode,
  type Identifiers,
} from '@lethe/api';
// `max` metadata: `isValid()` then checks the digits against each country's number ranges, not
// only the length (the default `min` accepts `123456` as a German number). A mistyped number that
// passes would match no record and leave a useless suppression hash; the 65 kB it costs is nothing
// on a server. Stale metadata could reject a newly opened range; updating the package fixes that.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { idProblem } from '../lib/id-rule.js';
import { stringOptions } from '../lib/string-options.js';

export type { CountryCode };

/** The names under which identifiers are hashed; they match the connectors' column tags. */
export const IDENTIFIER_SEMANTICS = [
  'subject-id',
  'email',
  'phone',
  'address',
  'custom-key',
  'custom-key-2',
  'custom-key-3',
] as const;
export type IdentifierSemantic = (typeof IDENTIFIER_SEMANTICS)[number];

type IdentifierKey = keyof Identifiers;
const SEMANTIC_OF: Readonly<Record<IdentifierKey, IdentifierSemantic>> = {
  subject: 'subject-id',
  email: 'email',
  phone: 'phone',
  address: 'address',
  customKey: 'custom-key',
  customKey2: 'custom-key-2',
  customKey3: 'custom-key-3',
};
/** The identifiers in hashing order; the same order as IDENTIFIER_SEMANTICS. */
const IDENTIFIER_KEYS = Object.keys(SEMANTIC_OF) as IdentifierKey[];
type ExactKey = 'subject' | 'customKey' | 'customKey2' | 'customKey3';
const EXACT_KEYS: readonly ExactKey[] = ['subject', 'customKey', 'customKey2', 'customKey3'];

/**
 * The data category each kind of identifier is: the planner finds the systems holding it in the
 * data map, and a category-limited token reads only the identifiers of categories it sees.
 * Custom keys have no category: only telemetry and connectors find them, and such a token never
 * reads them (deny by default).
 */
export const IDENTIFIER_CATEGORIES: Readonly<Record<IdentifierKey, string | undefined>> = {
  subject: 'user.unique_id',
  email: 'user.contact.email',
  phone: 'user.contact.phone_number',
  address: 'user.contact.address',
  customKey: undefined,
  customKey2: undefined,
  customKey3: undefined,
};

export type IdentifierErrorCode = Extract<ErrorCode, 'INVALID_IDENTIFIER' | 'IDENTIFIER_MISSING'>;

/**
 * An identifier that cannot be used; `field` is its path in `Identifiers` (`email`, `phone`,
 * `address.city`, `customKey2`, or `identifiers` when there is none at all).
 */
export class IdentifierError extends Error {
  constructor(
    readonly code: IdentifierErrorCode,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'IdentifierError';
  }
}

export interface NormaliseOptions {
  /** The country of phone numbers written without a `+` country code. */
  readonly defaultCountry?: CountryCode;
}

/**
 * Puts identifiers in canonical form, or throws an IdentifierError naming the first bad one.
 * Normalising twice gives the same result as once.
 *
 * - email: trimmed, NFC, lower-cased whole (local parts are case-sensitive in RFC 5321, but no
 *   mail system people use treats them so, and a request must find `Ann@x.com` stored as `ann@x.com`);
 * - phone: E.164 (`+442079460018`), national numbers read in `defaultCountry`;
 * - address: each part trimmed, NFC, inner whitespace collapsed, empty parts dropped; a two-letter
 *   country upper-cased; `address` itself is required;
 * - subject and custom keys: kept exactly as given (they are opaque keys), but not blank;
 * - each value kept is an id (lib/id-rule.ts): no control character, no lone surrogate.
 *
 * @example normaliseIdentifiers({ email: ' Ann@Example.COM ' }, {}) // { email: 'ann@example.com' }
 */
export function normaliseIdentifiers(input: Identifiers, options: NormaliseOptions = {}): Identifiers {
  const result: Identifiers = {};
  for (const key of EXACT_KEYS) {
    const value = input[key];
    if (value !== undefined) result[key] = exactKey(key, value);
  }
  if (input.email !== undefined) result.email = normaliseEmail(input.email);
  if (input.phone !== undefined) result.phone = normalisePhone(input.phone, options.defaultCountry);
  if (input.address !== undefined) result.address = normaliseAddress(input.address);
  if (!IDENTIFIER_KEYS.some((key) => result[key] !== undefined)) {
    throw new IdentifierError('IDENTIFIER_MISSING', 'identifiers', 'at least one identifier is required');
  }
  return result;
}

const EMAIL = /^[^@\s]+@[^@\s]+$/u;

export function normaliseEmail(value: string): string {
  const email = value.trim().normalize('NFC').toLowerCase();
  if (!EMAIL.test(email)) {
    throw new IdentifierError(
      'INVALID_IDENTIFIER',
      'email',
      'is not an email address such as ann@example.com',
    );
  }
  return asId('email', email, stringOptions(IdentifiersSchema.properties.email).maxLength);
}

/** E.164 form of a phone number; one without a country code needs `defaultCountry`. */
export function normalisePhone(value: string, defaultCountry?: CountryCode): string {
  const phone = parsePhoneNumberFromString(value.trim(), defaultCountry);
  if (!phone?.isValid()) {
    const hint = value.trim().startsWith('+') || defaultCountry ? '' : ' (write it with its +country code)';
    throw new IdentifierError('INVALID_IDENTIFIER', 'phone', `is not a valid phone number${hint}`);
  }
  return phone.number;
}

export function normaliseAddress(group: AddressGroup): AddressGroup {
  const parts: Partial<Record<(typeof ADDRESS_PARTS)[number], string>> = {};
  for (const part of ADDRESS_PARTS) {
    const raw = group[part];
    if (raw === undefined) continue;
    let text = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
    if (text === '') continue;
    if (part === 'country' && /^[a-z]{2}$/iu.test(text)) text = text.toUpperCase();
    parts[part] = asId(`address.${part}`, text, stringOptions(AddressGroupSchema.properties[part]).maxLength);
  }
  const { address, ...rest } = parts;
  if (address === undefined) {
    throw new IdentifierError('INVALID_IDENTIFIER', 'address.address', 'is required in an address');
  }
  return { address, ...rest };
}

function exactKey(key: ExactKey, value: string): string {
  if (value.trim() === '') throw new IdentifierError('INVALID_IDENTIFIER', key, 'must not be blank');
  return asId(key, value, stringOptions(IdentifiersSchema.properties[key]).maxLength);
}

// The limits come from the API schema, so a CSV import accepts exactly what the API accepts; and
// what is kept is an id (lib/id-rule.ts): no control character, no lone surrogate.
function asId(field: string, value: string, maxLength: number | undefined): string {
  if (maxLength !== undefined && value.length > maxLength) {
    throw new IdentifierError('INVALID_IDENTIFIER', field, `is longer than ${maxLength} characters`);
  }
  const problem = idProblem(value, Infinity);
  if (problem !== undefined) throw new IdentifierError('INVALID_IDENTIFIER', field, problem);
  return value;
}

// Hashes -----------------------------------------------------------------------------------------

export interface IdentifierHash {
  readonly semantic: IdentifierSemantic;
  /** HMAC-SHA-256, lower-case hex (64 characters). */
  readonly hash: string;
}

/** Keys shorter than SHA-256's output would be the weak point of the HMAC. */
export const MIN_HASH_KEY_BYTES = 32;

/**
 * Keyed hashes of each identifier, normalised first (so a phone number must already carry its
 * country code, as it does once stored). Each hash is domain-separated by its semantic: the same
 * string as an email and as a custom key gives two unrelated hashes.
 *
 * Hex rather than base64url: it survives case-insensitive collations and is easy to index.
 */
export function identifierHashes(identifiers: Identifiers, key: Buffer): IdentifierHash[] {
  const normalised = normaliseIdentifiers(identifiers);
  return IDENTIFIER_KEYS.flatMap((name) => {
    const value = normalised[name];
    if (value === undefined) return [];
    const canonical = typeof value === 'string' ? value : canonicalAddress(value);
    const semantic = SEMANTIC_OF[name];
    return [{ semantic, hash: hmac(semantic, canonical, key) }];
  });
}

/**
 * The keyed hash of one incoming value, to look it up in the suppression list: an email or phone
 * is normalised first, as `identifierHashes` does; subject ids and custom keys are hashed exactly.
 *
 * @example hashIdentifier('subject-id', event.subjectId, key) // compare with stored hashes
 */
export function hashIdentifier(semantic: 'address', value: AddressGroup, key: Buffer): string;
export function hashIdentifier(
  semantic: Exclude<IdentifierSemantic, 'address'>,
  value: string,
  key: Buffer,
): string;
export function hashIdentifier(
  semantic: IdentifierSemantic,
  value: string | AddressGroup,
  key: Buffer,
): string {
  let canonical: string;
  if (typeof value !== 'string') canonical = canonicalAddress(normaliseAddress(value));
  else if (semantic === 'email') canonical = normaliseEmail(value);
  else if (semantic === 'phone') canonical = normalisePhone(value);
  else canonical = value;
  return hmac(semantic, canonical, key);
}

/**
 * One string for a normalised address, case-folded because people write the same street in
 * different cases. JSON keeps it unambiguous whatever characters the parts hold.
 */
function canonicalAddress(group: AddressGroup): string {
  return JSON.stringify(ADDRESS_PARTS.map((part) => group[part]?.toLowerCase() ?? null));
}

function hmac(semantic: IdentifierSemantic, canonical: string, key: Buffer): string {
  if (key.length < MIN_HASH_KEY_BYTES) {
    throw new RangeError(`The identifier hash key must be at least ${MIN_HASH_KEY_BYTES} bytes.`);
  }
  // A semantic never holds NUL, so `semantic NUL value` cannot be read two ways.
  return createHmac('sha256', key).update(`${semantic}\0${canonical}`, 'utf8').digest('hex');
}

// Descriptions -----------------------------------------------------------------------------------

/**
 * A short masked description for logs and lists, e.g. `a***@example.com, +44********18`: enough
 * for an operator to tell requests apart, not enough to identify anyone.
 */
export function describeIdentifiers(identifiers: Identifiers): string {
  const parts: string[] = [];
  if (identifiers.email !== undefined) parts.push(maskEmail(identifiers.email));
  if (identifiers.phone !== undefined) parts.push(maskPhone(identifiers.phone));
  if (identifiers.address !== undefined) {
    const { city, country } = identifiers.address;
    const place = [city, country].filter((part) => part !== undefined).join(' ');
    parts.push(place === '' ? 'address' : `address (${place})`);
  }
  for (const key of EXACT_KEYS) {
    const value = identifiers[key];
    if (value !== undefined) parts.push(`${SEMANTIC_OF[key]} ${maskText(value)}`);
  }
  return parts.length === 0 ? 'no identifiers' : parts.join(', ');
}

/** The first character, then a fixed `***` so the length does not show. */
function maskText(value: string): string {
  const [first = ''] = value.trim();
  return `${first}***`;
}

function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0 ? maskText(email) : `${maskText(email.slice(0, at))}${email.slice(at)}`;
}

/** Country code and last two digits; the rest as one `*` per digit. */
function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/gu, '');
  const countryCode = parsePhoneNumberFromString(phone)?.countryCallingCode ?? '';
  const shown = digits.slice(countryCode.length);
  if (shown.length <= 2) return `+${countryCode}${'*'.repeat(shown.length)}`;
  return `+${countryCode}${'*'.repeat(shown.length - 2)}${shown.slice(-2)}`;
}
