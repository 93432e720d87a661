import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { MasterKey } from '../auth/master-key.js';
import { DAY_MS } from '../lib/time.js';

/**
 * Field encryption for privacy streams: each personal attribute of an event is encrypted on its
 * own with AES-256-GCM under the key of the event's key-link value (one key per key-link value
 * per rotation period), so deleting that key shreds the attribute in every stored and exported
 * copy at once.
 *
 * The ciphertext of one attribute value is the string `lf1.<keyId>.<iv>.<ciphertext+tag>`
 * (base64url parts) of its JSON text. It is randomised: a fresh random 96-bit IV per value, so the
 * same value encrypts differently every time. That is deliberate:
 * - deterministic ciphertext would leak equality: who shares a postcode, which events carry the
 *   same e-mail address, across events and, with a shared key, across subjects;
 * - GCM breaks down completely when an IV repeats under one key (the tag key leaks, forgeries
 *   follow). Random IVs are safe for 2^32 values per key; a key here serves one key-link value
 *   for one rotation period (24 h by default), orders of magnitude below that.
 * The cost is that ciphertexts cannot be joined or grouped on; the key-link attribute itself,
 * when it must be, is the contract's business (pseudonymise it, do not make it personal here).
 *
 * The additional data binds the ciphertext to its contract, its attribute path and its key id:
 * a value copied into another attribute or another contract's event does not open.
 */
export const FIELD_CIPHERTEXT_VERSION = 'lf1';
/** Field keys are AES-256 keys. */
export const FIELD_KEY_BYTES = 32;
/** Keys rotate daily unless configured otherwise. */
export const DEFAULT_KEY_ROTATION_MS = DAY_MS;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]+$/;
/** Version, key id, IV (12 bytes: 16 chars), ciphertext + tag (at least 16 bytes: 22 chars). */
const CIPHERTEXT = /^lf1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})$/;

/**
 * The key of one key-link value for one rotation period. `id` is random, so a key id stored in
 * every ciphertext says nothing about the key-link value or the subject. `createdAt` is when the
 * key was made; `expiresAt` is the end of the period it encrypts for (epoch ms, exclusive): after
 * it the key only decrypts. Expiry is not shredding; deleting the key is.
 *
 * `material` is the raw key: keep it out of logs, and at rest only wrapped (`wrapFieldKey`).
 */
export interface FieldKey {
  readonly id: string;
  readonly keyLink: string;
  readonly subject: string;
  readonly material: Buffer;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Where a value sits: its contract and attribute path, bound to its ciphertext. */
export interface FieldContext {
  readonly contract: string;
  readonly attribute: string;
}

/**
 * Why a ciphertext did not open:
 * - `malformed`: not an `lf1.…` ciphertext;
 * - `key-mismatch`: encrypted under another key than the one given;
 * - `authentication-failed`: the right key id, but the tag does not verify: the ciphertext was
 *   changed, moved from another attribute or contract, or the key material is not the original.
 */
export type FieldDecryptReason = 'malformed' | 'key-mismatch' | 'authentication-failed';

/** A field ciphertext that does not open. The message never quotes the ciphertext or the value. */
export class FieldDecryptError extends Error {
  constructor(
    readonly reason: FieldDecryptReason,
    message: string,
  ) {
    super(message);
    this.name = 'FieldDecryptError';
  }
}

/** Whether a value is a field ciphertext (`lf1.…`, well formed). */
export function isFieldCiphertext(value: unknown): value is string {
  return typeof value === 'string' && CIPHERTEXT.test(value);
}

/** The id of the key a field ciphertext was made with; undefined when it is not one. */
export function keyIdOf(ciphertext: string): string | undefined {
  return CIPHERTEXT.exec(ciphertext)?.[1];
}

/**
 * Encrypts a JSON value (anything `JSON.stringify` turns into text: `null` included, `undefined`
 * and functions not) for one attribute of one contract.
 *
 * @example
 * const ciphertext = encryptField(key, { contract: 'clicks', attribute: 'email' }, 'ann@example.com');
 * decryptField(key, { contract: 'clicks', attribute: 'email' }, ciphertext); // 'ann@example.com'
 */
export function encryptField(key: FieldKey, context: FieldContext, value: unknown): string {
  checkKey(key);
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) throw new TypeError(`the value of ${context.attribute} is not a JSON value`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.material, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(context, key.id));
  const sealed = Buffer.concat([cipher.update(json, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${FIELD_CIPHERTEXT_VERSION}.${key.id}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
}

/** Decrypts a ciphertext made by `encryptField` for the same context; throws `FieldDecryptError`. */
export function decryptField(key: FieldKey, context: FieldContext, ciphertext: string): unknown {
  checkKey(key);
  const where = `${context.contract}/${context.attribute}`;
  const match = CIPHERTEXT.exec(ciphertext);
  if (!match) throw new FieldDecryptError('malformed', `${where} does not hold a field ciphertext`);
  const [, keyId, iv, sealedText] = match as unknown as [string, string, string, string];
  if (keyId !== key.id) {
    throw new FieldDecryptError('key-mismatch', `${where} is encrypted under key ${keyId}, not ${key.id}`);
  }
  const sealed = Buffer.from(sealedText, 'base64url');
  let json: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.material, Buffer.from(iv, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(additionalData(context, keyId));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    json = Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new FieldDecryptError(
      'authentication-failed',
      `${where} does not decrypt under key ${keyId}: it was changed, or moved from another attribute or contract`,
    );
  }
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new FieldDecryptError('malformed', `${where} decrypts to something that is not JSON`);
  }
}

function checkKey(key: FieldKey): void {
  if (key.material.length !== FIELD_KEY_BYTES) {
    throw new RangeError(`field key ${key.id} is ${key.material.length} bytes, not ${FIELD_KEY_BYTES}`);
  }
  if (!KEY_ID.test(key.id)) throw new RangeError('a field key id is base64url text');
}

/** JSON of a tuple: unambiguous whatever characters the contract or attribute names hold. */
function additionalData(context: FieldContext, keyId: string): Buffer {
  return Buffer.from(
    JSON.stringify([FIELD_CIPHERTEXT_VERSION, context.contract, context.attribute, keyId]),
    'utf8',
  );
}

// --- Rotation -------------------------------------------------------------------------------

/** One rotation period: `[start, end)` in epoch ms, `index` counted from the anchor. */
export interface KeyPeriod {
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/**
 * The rotation period an instant falls in: periods of `rotationMs` laid end to end from `anchor`
 * (default the epoch, so daily periods run 00:00–24:00 UTC). The key of a key-link value that
 * encrypts an event is the one of the period holding the event's time, whatever the time it
 * arrives: a late event gets its own period's key.
 */
export function keyPeriod(at: number, rotationMs = DEFAULT_KEY_ROTATION_MS, anchor = 0): KeyPeriod {
  if (!Number.isFinite(rotationMs) || rotationMs <= 0) {
    throw new RangeError(`a key rotation period is a positive number of ms, got ${rotationMs}`);
  }
  const index = Math.floor((at - anchor) / rotationMs);
  const start = anchor + index * rotationMs;
  return { index, start, end: start + rotationMs };
}

/**
 * Whether an event at `at` needs another key than `current` (the newest key of its key-link
 * value, if any): it does unless `current` was made for the event's period.
 */
export function needsNewKey(
  current: Pick<FieldKey, 'expiresAt'> | undefined,
  at: number,
  rotationMs = DEFAULT_KEY_ROTATION_MS,
  anchor = 0,
): boolean {
  return current === undefined || current.expiresAt !== keyPeriod(at, rotationMs, anchor).end;
}

/** A new random key for the period holding `eventAt`. */
export function createFieldKey(options: {
  readonly keyLink: string;
  readonly subject: string;
  readonly eventAt: number;
  readonly now: number;
  readonly rotationMs?: number;
  readonly anchor?: number;
}): FieldKey {
  return {
    id: randomBytes(KEY_ID_BYTES).toString('base64url'),
    keyLink: options.keyLink,
    subject: options.subject,
    material: randomBytes(FIELD_KEY_BYTES),
    createdAt: options.now,
    expiresAt: keyPeriod(options.eventAt, options.rotationMs, options.anchor).end,
  };
}

// --- At rest --------------------------------------------------------------------------------

/**
 * The master-key label of a field key's envelope. It names the key id only: the label appears in
 * `MasterKey.unwrap`'s error messages, and a key-link value is personal data.
 */
export function fieldKeyLabel(keyId: string): string {
  return `field-key:${keyId}`;
}

/** The key material wrapped by the master key, bound to the key id, for the store. */
export function wrapFieldKey(master: MasterKey, key: Pick<FieldKey, 'id' | 'material'>): string {
  return master.wrap(key.material, fieldKeyLabel(key.id));
}

/** The material of key `keyId` from its envelope; throws as `MasterKey.unwrap` does. */
export function unwrapFieldKey(master: MasterKey, keyId: string, envelope: string): Buffer {
  const material = master.unwrap(envelope, fieldKeyLabel(keyId));
  if (material.length !== FIELD_KEY_BYTES) {
    throw new RangeError(`field key ${keyId} unwraps to ${material.length} bytes, not ${FIELD_KEY_BYTES}`);
  }
  return material;
}

// --- Events ---------------------------------------------------------------------------------

/**
 * A contract's personal attributes: attribute path -> the purposes it may be used for. A path is
 * a top-level attribute name or a dotted path into nested objects (`address.street`); a path
 * goes through arrays element by element (`items.email` is the `email` of every item). A name
 * that itself holds a dot (`{"a.b": …}`) matches too: every way of reading the path is tried, so a
 * personal value is never left in clear because of how its path was spelled.
 */
export type PersonalAttributes = ReadonlyMap<string, readonly string[]>;

/** What encryption and derivation need from an event contract. */
export interface ContractFields {
  readonly contract: string;
  readonly personal: PersonalAttributes;
}

export type EventData = Record<string, unknown>;

export interface EncryptedEvent {
  /** A copy of the event with every personal value replaced by its ciphertext. */
  readonly data: EventData;
  /** The key used; undefined when the event held no personal attribute. */
  readonly keyId: string | undefined;
  /** The personal paths that were present and encrypted. */
  readonly encrypted: readonly string[];
}

/**
 * Encrypts an event for the base stream: every personal value present (`null` included) becomes
 * its ciphertext, everything else is copied unchanged. `keyFor` gives the key of the event's
 * key-link value; it is called once, and only when the event holds a personal value.
 *
 * A personal path inside another (`address` and `address.street`) is encrypted first, so the
 * outer ciphertext holds the inner one and each is opened under its own purposes.
 */
export function encryptEvent(
  data: EventData,
  contract: ContractFields,
  keyFor: () => FieldKey,
): EncryptedEvent {
  const copy = structuredClone(data);
  let key: FieldKey | undefined;
  const encrypted: string[] = [];
  for (const attribute of innermostFirst(contract.personal.keys())) {
    const slots = slotsOf(copy, attribute);
    for (const { parent, name } of slots) {
      key ??= keyFor();
      parent[name] = encryptField(key, { contract: contract.contract, attribute }, parent[name]);
    }
    if (slots.length > 0) encrypted.push(attribute);
  }
  return { data: copy, keyId: key?.id, encrypted };
}

/** The ids of the keys an encrypted event's personal values were made with, to fetch them first. */
export function keyIdsOf(data: EventData, personal: PersonalAttributes): Set<string> {
  const ids = new Set<string>();
  for (const attribute of personal.keys()) {
    for (const { parent, name } of slotsOf(data, attribute)) {
      const value = parent[name];
      const keyId = typeof value === 'string' ? keyIdOf(value) : undefined;
      if (keyId !== undefined) ids.add(keyId);
    }
  }
  return ids;
}

/** What happens to a personal value a derived stream may not read: kept as ciphertext, or removed. */
export type WithheldMode = 'keep-encrypted' | 'drop';

/** A key by id: the key, `'shredded'` when it was deleted, undefined when it is unknown. */
export type KeyLookup = (keyId: string) => FieldKey | 'shredded' | undefined;

export interface DerivedStreamFields extends ContractFields {
  /** The purposes the derived stream is for. */
  readonly purposes: ReadonlySet<string>;
  readonly mode: WithheldMode;
  readonly keyLookup: KeyLookup;
}

export type DerivedEvent =
  | { readonly included: false }
  | {
      readonly included: true;
      readonly data: EventData;
      /** Personal paths decrypted in at least one place. */
      readonly decrypted: readonly string[];
      /**
       * Personal paths the stream may read but that could not be decrypted: key shredded or
       * unknown, or ciphertext damaged. Each such value is `null` (`keep-encrypted`) or removed
       * (`drop`).
       */
      readonly unreadable: readonly string[];
      /**
       * Paths whose stored value is not a sound ciphertext: changed, moved, or never encrypted.
       * A value in clear at a personal path is never passed on, whatever the stream's purposes.
       */
      readonly damaged: readonly string[];
    };

/**
 * An event of the base stream as a derived stream sees it.
 *
 * - The event is left out (`included: false`) unless its consent covers every purpose of the
 *   stream: `stream.purposes ⊆ consent`.
 * - In an event that is in, a personal attribute is decrypted when at least one of its purposes
 *   is a purpose of the stream (`purposes(attribute) ∩ stream.purposes ≠ ∅`); since the stream's
 *   purposes are all consented to, that purpose is too. A stream for no purposes decrypts nothing.
 * - Every other personal attribute is withheld: its ciphertext is kept (`keep-encrypted`) or
 *   the attribute removed (`drop`).
 * - Non-personal attributes pass unchanged.
 *
 * An attribute inside another personal one (`address.street` in `address`) can only be read where
 * the outer one is decrypted too.
 */
export function deriveEvent(
  data: EventData,
  consent: ReadonlySet<string>,
  stream: DerivedStreamFields,
): DerivedEvent {
  for (const purpose of stream.purposes) {
    if (!consent.has(purpose)) return { included: false };
  }
  const copy = structuredClone(data);
  const decrypted: string[] = [];
  const unreadable: string[] = [];
  const damaged: string[] = [];
  const drop = stream.mode === 'drop';
  for (const attribute of outermostFirst(stream.personal.keys())) {
    const readable = (stream.personal.get(attribute) ?? []).some((purpose) => stream.purposes.has(purpose));
    const context = { contract: stream.contract, attribute };
    let opened = false;
    let failed = false;
    let broken = false;
    for (const { parent, name } of slotsOf(copy, attribute)) {
      const value = parent[name];
      if (!isFieldCiphertext(value)) {
        broken = true;
        failed ||= readable;
        withhold(parent, name, drop, true);
        continue;
      }
      if (!readable) {
        withhold(parent, name, drop, false);
        continue;
      }
      const key = stream.keyLookup(keyIdOf(value)!);
      if (key === undefined || key === 'shredded') {
        failed = true;
        withhold(parent, name, drop, true);
        continue;
      }
      try {
        parent[name] = decryptField(key, context, value);
        opened = true;
      } catch (error) {
        if (!(error instanceof FieldDecryptError)) throw error;
        failed = true;
        broken = true;
        withhold(parent, name, drop, true);
      }
    }
    if (opened) decrypted.push(attribute);
    if (failed) unreadable.push(attribute);
    if (broken) damaged.push(attribute);
  }
  return { included: true, data: copy, decrypted, unreadable, damaged };
}

function withhold(parent: EventData, name: string, drop: boolean, unusable: boolean): void {
  if (drop) delete parent[name];
  else if (unusable) parent[name] = null;
}

interface Slot {
  readonly parent: EventData;
  readonly name: string;
}

/** Every place `path` names in `node` (see `PersonalAttributes`). */
function slotsOf(node: unknown, path: string): Slot[] {
  const slots: Slot[] = [];
  collectSlots(node, path.split('.'), slots);
  return slots;
}

function collectSlots(node: unknown, segments: readonly string[], slots: Slot[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collectSlots(item, segments, slots);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as EventData;
  for (let taken = segments.length; taken >= 1; taken--) {
    const name = segments.slice(0, taken).join('.');
    if (!Object.hasOwn(record, name)) continue;
    if (taken === segments.length) slots.push({ parent: record, name });
    else collectSlots(record[name], segments.slice(taken), slots);
  }
}

const depth = (path: string) => path.split('.').length;

function innermostFirst(paths: Iterable<string>): string[] {
  return [...paths].sort((a, b) => depth(b) - depth(a));
}

function outermostFirst(paths: Iterable<string>): string[] {
  return [...paths].sort((a, b) => depth(a) - depth(b));
}
