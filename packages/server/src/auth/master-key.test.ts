import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  EnvelopeError,
  envelopeKeyId,
  isEnvelope,
  MasterKey,
  MasterKeyError,
  SERVER_SECRET_LABEL,
  signingKeyLabel,
} from './master-key.js';

const BYTES = randomBytes(32);
const key = new MasterKey(BYTES, 'test');
const LABEL = signingKeyLabel('kid-1');

/** Flips one bit of the `part`-th dot-separated part of an envelope (base64url decoded). */
function flip(envelope: string, part: number): string {
  const parts = envelope.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0]! ^= 1;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('MasterKey envelopes', () => {
  it('round-trip text and bytes under the same label', () => {
    const jwk = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'abc', d: 'secret-d' });
    expect(key.unwrapText(key.wrap(jwk, LABEL), LABEL)).toBe(jwk);
    const secret = randomBytes(32);
    expect(key.unwrap(key.wrap(secret, SERVER_SECRET_LABEL), SERVER_SECRET_LABEL)).toEqual(secret);
    expect(key.unwrap(key.wrap('', LABEL), LABEL)).toEqual(Buffer.alloc(0));
  });

  it('are v1.<keyId>.<iv>.<tag>.<ciphertext> in base64url, with a fresh 96-bit IV each time', () => {
    const one = key.wrap('the same secret', LABEL);
    const two = key.wrap('the same secret', LABEL);
    expect(one).not.toBe(two);
    const parts = one.split('.');
    expect(parts).toHaveLength(5);
    expect(parts[0]).toBe('v1');
    expect(parts[1]).toBe(key.id);
    expect(Buffer.from(parts[2]!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[3]!, 'base64url')).toHaveLength(16);
    expect(parts[2]).not.toBe(two.split('.')[2]);
    for (const part of parts) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(one).not.toContain('the same secret');
    expect(isEnvelope(one)).toBe(true);
    expect(envelopeKeyId(one)).toBe(key.id);
  });

  it('name their key by the first 8 bytes of its SHA-256', () => {
    expect(key.id).toBe(createHash('sha256').update(BYTES).digest().subarray(0, 8).toString('base64url'));
    expect(MasterKey.generate().id).not.toBe(key.id);
  });

  it('tell clear values from envelopes', () => {
    expect(isEnvelope('{"kty":"OKP","d":"x"}')).toBe(false);
    expect(isEnvelope(randomBytes(32).toString('base64'))).toBe(false);
    expect(isEnvelope('v2.whatever')).toBe(true);
    expect(envelopeKeyId('v2.a.b.c.d')).toBeUndefined();
  });

  it('do not open under another label: a value moved to another row is detected', () => {
    const wrapped = key.wrap('secret', signingKeyLabel('kid-1'));
    expect(() => key.unwrap(wrapped, signingKeyLabel('kid-2'))).toThrow(EnvelopeError);
    expect(() => key.unwrap(wrapped, SERVER_SECRET_LABEL)).toThrow(/moved from another row/);
  });

  it('detect any change to the IV, the tag or the ciphertext', () => {
    const wrapped = key.wrap('a private key', LABEL);
    for (const part of [2, 3, 4]) {
      expect(() => key.unwrap(flip(wrapped, part), LABEL)).toThrow(EnvelopeError);
    }
    expect(() => key.unwrap(wrapped.slice(0, -2), LABEL)).toThrow(EnvelopeError);
    expect(() => key.unwrap(`${wrapped}.extra`, LABEL)).toThrow(/not a well-formed envelope/);
  });

  it('name a wrong master key as such instead of failing as a bad tag', () => {
    const wrapped = key.wrap('secret', LABEL);
    const other = MasterKey.generate('LETHE_MASTER_KEY');
    expect(() => other.unwrap(wrapped, LABEL)).toThrow(MasterKeyError);
    expect(() => other.unwrap(wrapped, LABEL)).toThrow(
      /the master key does not match the one this store was encrypted with/,
    );
    // An id rewritten to match does not help: the tag does not verify under another key.
    const relabelled = wrapped.replace(`v1.${key.id}.`, `v1.${other.id}.`);
    expect(() => other.unwrap(relabelled, LABEL)).toThrow(EnvelopeError);
  });

  it('refuse clear values and unknown versions', () => {
    expect(() => key.unwrap('{"d":"x"}', LABEL)).toThrow(/is not encrypted/);
    expect(() => key.unwrap(`v9.${key.id}.a.b.c`, LABEL)).toThrow(/envelope version v9/);
  });
});

describe('MasterKey.parse', () => {
  it('takes the base64 or base64url of 32 bytes, with a trailing newline', () => {
    expect(MasterKey.parse(`${BYTES.toString('base64')}\n`, 'X').id).toBe(key.id);
    expect(MasterKey.parse(BYTES.toString('base64url'), 'X').id).toBe(key.id);
  });

  it('refuses anything else, naming where it came from and never quoting the value', () => {
    const short = randomBytes(31).toString('base64');
    const cases: [string, RegExp][] = [
      [short, /LETHE_MASTER_KEY holds 31 bytes, not 32/],
      [randomBytes(33).toString('base64'), /LETHE_MASTER_KEY holds 33 bytes/],
      ['not base64 at all!', /LETHE_MASTER_KEY is not base64/],
      ['  \n', /LETHE_MASTER_KEY is empty/],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        MasterKey.parse(text, 'LETHE_MASTER_KEY');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(MasterKeyError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain('openssl rand -base64 32');
      if (text.trim() !== '') expect((error as Error).message).not.toContain(text.trim());
    }
  });

  it('never shows the key when printed or serialised', () => {
    const encoded = BYTES.toString('base64');
    const parsed = MasterKey.parse(encoded, 'LETHE_MASTER_KEY');
    for (const shown of [inspect(parsed, { showHidden: true }), JSON.stringify(parsed), String(parsed)]) {
      expect(shown).not.toContain(encoded);
      expect(shown).not.toContain(BYTES.toString('hex'));
    }
    expect(JSON.parse(JSON.stringify(parsed))).toEqual({ id: key.id, source: 'LETHE_MASTER_KEY' });
  });
});
