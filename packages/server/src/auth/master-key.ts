import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/** A master key is 32 random bytes (AES-256), given as their base64. */
export const MASTER_KEY_BYTES = 32;

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes of SHA-256(master key) that name it in every envelope. */
const KEY_ID_BYTES = 8;
/** `v1.<keyId>.<iv>.<tag>.<ciphertext>`, each part base64url; the ciphertext may be empty. */
const ENVELOPE = /^v1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/;

/** What a wrapped value is, bound to its ciphertext as additional data: the installation secret. */
export const SERVER_SECRET_LABEL = 'server-secret';

/** …and the private half of signing key `kid`. */
export function signingKeyLabel(kid: string): string {
  return `signing-key:${kid}`;
}

/**
 * The master key is missing, malformed, or not the one the store's key material was wrapped
 * with. Lethe refuses to start (or the command to run) with this message, exit code 1.
 */
export class MasterKeyError extends Error {}

/** A stored envelope that does not open: changed, truncated, or moved from another row. */
export class EnvelopeError extends Error {}

/** Whether a stored value is an envelope of some version (`v1.…`) rather than a clear value. */
export function isEnvelope(value: string): boolean {
  return /^v\d+\./.test(value);
}

/** The id of the master key an envelope was wrapped with; undefined when it is not a v1 envelope. */
export function envelopeKeyId(value: string): string | undefined {
  return ENVELOPE.exec(value)?.[1];
}

/**
 * The key that wraps Lethe's own key material at rest (envelope encryption): the private halves
 * of the signing keys and the installation secret are stored as AES-256-GCM envelopes
 * `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts, a random 96-bit IV per wrap). The
 * additional data binds each envelope to its version, its key id and a label saying what it is
 * (`signing-key:<kid>`, `server-secret`), so an envelope copied onto another row does not open.
 * `keyId` is the first 8 bytes of SHA-256 of the key: a wrong master key is named as such
 * instead of failing as a bad tag. The wrapping key is derived from the master key (HKDF), so
 * later uses of the master key get keys of their own.
 *
 * The key bytes are kept in a private field and never printed: `inspect` and `JSON.stringify`
 * show only the id and where the key came from.
 */
export class MasterKey {
  /** base64url of the first 8 bytes of SHA-256(key); public, stored in every envelope. */
  readonly id: string;
  /** Where the key came from, for messages: `LETHE_MASTER_KEY`, a file path, … */
  readonly source: string;
  readonly #wrappingKey: Buffer;

  constructor(bytes: Uint8Array, source = 'the key given to Lethe') {
    if (bytes.length !== MASTER_KEY_BYTES) {
      throw new MasterKeyError(`a master key is ${MASTER_KEY_BYTES} bytes, got ${bytes.length}`);
    }
    this.id = createHash('sha256').update(bytes).digest().subarray(0, KEY_ID_BYTES).toString('base64url');
    this.source = source;
    this.#wrappingKey = Buffer.from(
      hkdfSync('sha256', bytes, Buffer.alloc(0), 'lethe key wrapping v1', MASTER_KEY_BYTES),
    );
  }

  /** A new random key (tests, and the first start without a configured key). */
  static generate(source?: string): MasterKey {
    return new MasterKey(randomBytes(MASTER_KEY_BYTES), source);
  }

  /**
   * Parses the base64 (or base64url) of 32 bytes, surrounding whitespace allowed (a file's final
   * newline). `origin` names where the text came from in the error, which never quotes the text.
   */
  static parse(text: string, origin: string): MasterKey {
    const trimmed = text.trim();
    const hint = 'the base64 of 32 random bytes, e.g. from `openssl rand -base64 32`';
    if (trimmed === '') throw new MasterKeyError(`${origin} is empty; it must hold ${hint}`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
      throw new MasterKeyError(`${origin} is not base64; it must hold ${hint}`);
    }
    const bytes = Buffer.from(trimmed, 'base64');
    if (bytes.length !== MASTER_KEY_BYTES) {
      throw new MasterKeyError(
        `${origin} holds ${bytes.length} bytes, not ${MASTER_KEY_BYTES}; it must hold ${hint}`,
      );
    }
    return new MasterKey(bytes, origin);
  }

  /** Encrypts `secret` as an envelope bound to `label`. */
  wrap(secret: string | Uint8Array, label: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#wrappingKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(this.id, label));
    const plaintext = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [VERSION, this.id, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /**
   * Decrypts an envelope made by `wrap` with the same label. Throws `MasterKeyError` when it was
   * wrapped under another master key, `EnvelopeError` when it is not an envelope or does not open
   * (changed, or wrapped for another label).
   */
  unwrap(envelope: string, label: string): Buffer {
    if (!isEnvelope(envelope)) {
      throw new EnvelopeError(`the stored ${label} is not encrypted (written by an older release?)`);
    }
    const match = ENVELOPE.exec(envelope);
    if (!match) {
      throw new EnvelopeError(
        envelope.startsWith(`${VERSION}.`)
          ? `the stored ${label} is not a well-formed envelope`
          : `the stored ${label} is wrapped in envelope version ${envelope.split('.')[0]}, which this release does not know`,
      );
    }
    const [, keyId, iv, tag, ciphertext] = match as unknown as [string, string, string, string, string];
    if (keyId !== this.id) {
      throw new MasterKeyError(
        `the master key does not match the one this store was encrypted with: the stored ${label} ` +
          `is wrapped under master key ${keyId}, the master key from ${this.source} is ${this.id}`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#wrappingKey, Buffer.from(iv, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(additionalData(keyId, label));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    } catch {
      throw new EnvelopeError(
        `the stored ${label} does not decrypt under the master key: it was changed, or moved from another row`,
      );
    }
  }

  /** `unwrap` as UTF-8 text. */
  unwrapText(envelope: string, label: string): string {
    return this.unwrap(envelope, label).toString('utf8');
  }

  toJSON(): { id: string; source: string } {
    return { id: this.id, source: this.source };
  }

  [inspect.custom](): string {
    return `MasterKey { id: '${this.id}', source: '${this.source}' }`;
  }
}

function additionalData(keyId: string, label: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}.${label}`, 'utf8');
}
