import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvelopeError, MasterKey } from '../auth/master-key.js';
import {
  createFieldKey,
  decryptField,
  deriveEvent,
  encryptEvent,
  encryptField,
  FieldDecryptError,
  type FieldDecryptReason,
  type FieldKey,
  isFieldCiphertext,
  keyIdOf,
  keyIdsOf,
  keyPeriod,
  needsNewKey,
  type DerivedStreamFields,
  type EventData,
  type KeyLookup,
  unwrapFieldKey,
  wrapFieldKey,
} from './field-crypto.js';
import { DAY_MS } from '../lib/time.js';

const at = Date.parse;
const NOW = at('2024-05-01T10:00:00Z');
const newKey = (keyLink = 'session-1'): FieldKey =>
  createFieldKey({ keyLink, subject: 'subject-1', eventAt: NOW, now: NOW });
const EMAIL = { contract: 'clicks', attribute: 'email' };

function decryptError(run: () => unknown): FieldDecryptReason {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FieldDecryptError);
    return (error as FieldDecryptError).reason;
  }
  throw new Error('expected a FieldDecryptError');
}

describe('encryptField / decryptField', () => {
  const key = newKey();

  it.each([
    ['a string', 'ann@example.com'],
    ['an empty string', ''],
    ['a number', 42.5],
    ['a boolean', false],
    ['null', null],
    ['an object', { street: 'Main St 1', city: 'Utrecht', geo: [52.09, 5.12] }],
    ['an array', ['a', 1, null]],
    ['unicode', 'Zoë ✓ 𝄞'],
  ])('round-trips %s', (_, value) => {
    const ciphertext = encryptField(key, EMAIL, value);
    expect(isFieldCiphertext(ciphertext)).toBe(true);
    expect(keyIdOf(ciphertext)).toBe(key.id);
    expect(decryptField(key, EMAIL, ciphertext)).toEqual(value);
  });

  it('round-trips any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // As JSON text sees it: fast-check's JSON values include -0, which JSON writes as 0.
        const asJson: unknown = JSON.parse(JSON.stringify(value));
        expect(decryptField(key, EMAIL, encryptField(key, EMAIL, value))).toEqual(asJson);
      }),
    );
  });

  it('refuses what is not JSON', () => {
    expect(() => encryptField(key, EMAIL, undefined)).toThrow(TypeError);
  });

  it('is randomised: the same value twice gives two ciphertexts', () => {
    const first = encryptField(key, EMAIL, 'ann@example.com');
    const second = encryptField(key, EMAIL, 'ann@example.com');
    expect(first).not.toBe(second);
    expect(decryptField(key, EMAIL, second)).toBe('ann@example.com');
  });

  it('has the compact lf1 form and never shows the value', () => {
    const ciphertext = encryptField(key, EMAIL, 'ann@example.com');
    expect(ciphertext).toMatch(/^lf1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(ciphertext).not.toContain('ann');
  });

  it('does not open in another attribute or contract', () => {
    const ciphertext = encryptField(key, EMAIL, 'ann@example.com');
    expect(
      decryptError(() => decryptField(key, { contract: 'clicks', attribute: 'phone' }, ciphertext)),
    ).toBe('authentication-failed');
    expect(
      decryptError(() => decryptField(key, { contract: 'orders', attribute: 'email' }, ciphertext)),
    ).toBe('authentication-failed');
  });

  it('detects any flipped character', () => {
    const ciphertext = encryptField(key, EMAIL, 'ann@example.com');
    for (let index = 0; index < ciphertext.length; index++) {
      if (ciphertext[index] === '.') continue;
      const flipped = ciphertext[index] === 'A' ? 'B' : 'A';
      const tampered = ciphertext.slice(0, index) + flipped + ciphertext.slice(index + 1);
      expect(() => decryptField(key, EMAIL, tampered)).toThrow(FieldDecryptError);
    }
  });

  it('names a wrong key, and a key whose material is not the original', () => {
    const ciphertext = encryptField(key, EMAIL, 'ann@example.com');
    expect(decryptError(() => decryptField(newKey(), EMAIL, ciphertext))).toBe('key-mismatch');
    const impostor = { ...newKey(), id: key.id };
    expect(decryptError(() => decryptField(impostor, EMAIL, ciphertext))).toBe('authentication-failed');
  });

  it('calls what is not a ciphertext malformed', () => {
    expect(decryptError(() => decryptField(key, EMAIL, 'ann@example.com'))).toBe('malformed');
    expect(decryptError(() => decryptField(key, EMAIL, `lf1.${key.id}.short.x`))).toBe('malformed');
    expect(isFieldCiphertext(42)).toBe(false);
    expect(keyIdOf('v1.abc.def')).toBeUndefined();
  });

  it('makes random key ids that say nothing about the key-link value', () => {
    const first = newKey('session-1');
    const second = newKey('session-1');
    expect(first.id).not.toBe(second.id);
    expect(first.id).not.toContain('session');
    expect(first.material).toHaveLength(32);
  });
});

describe('key rotation', () => {
  it('lays 24 h periods from the epoch by default', () => {
    expect(keyPeriod(at('2024-05-01T10:00:00Z'))).toEqual({
      index: at('2024-05-01T00:00:00Z') / DAY_MS,
      start: at('2024-05-01T00:00:00Z'),
      end: at('2024-05-02T00:00:00Z'),
    });
  });

  it('puts a period start in that period and its end in the next', () => {
    const start = at('2024-05-01T00:00:00Z');
    expect(keyPeriod(start).start).toBe(start);
    expect(keyPeriod(start - 1).end).toBe(start);
    expect(keyPeriod(start + DAY_MS - 1).index).toBe(keyPeriod(start).index);
    expect(keyPeriod(start + DAY_MS).index).toBe(keyPeriod(start).index + 1);
  });

  it('takes a custom period and anchor, before the anchor too', () => {
    const hour = 3_600_000;
    const anchor = at('2024-05-01T06:30:00Z');
    expect(keyPeriod(anchor + 90 * 60_000, hour, anchor)).toEqual({
      index: 1,
      start: anchor + hour,
      end: anchor + 2 * hour,
    });
    expect(keyPeriod(anchor - 1, hour, anchor)).toEqual({ index: -1, start: anchor - hour, end: anchor });
    expect(() => keyPeriod(NOW, 0)).toThrow(RangeError);
  });

  it('asks for a new key in a new period only', () => {
    const key = createFieldKey({ keyLink: 's', subject: 'u', eventAt: NOW, now: NOW });
    expect(key.expiresAt).toBe(at('2024-05-02T00:00:00Z'));
    expect(needsNewKey(undefined, NOW)).toBe(true);
    expect(needsNewKey(key, at('2024-05-01T00:00:00Z'))).toBe(false);
    expect(needsNewKey(key, at('2024-05-01T23:59:59.999Z'))).toBe(false);
    expect(needsNewKey(key, at('2024-05-02T00:00:00Z'))).toBe(true);
    expect(needsNewKey(key, at('2024-04-30T23:59:59.999Z'))).toBe(true);
  });

  it('gives a late event the key of its own period', () => {
    const late = createFieldKey({
      keyLink: 's',
      subject: 'u',
      eventAt: at('2024-04-28T12:00:00Z'),
      now: NOW,
    });
    expect(late.createdAt).toBe(NOW);
    expect(late.expiresAt).toBe(at('2024-04-29T00:00:00Z'));
  });
});

describe('wrapFieldKey / unwrapFieldKey', () => {
  it('wraps the material under the master key, bound to the key id', () => {
    const master = MasterKey.generate();
    const key = newKey();
    const envelope = wrapFieldKey(master, key);
    expect(envelope).not.toContain(key.material.toString('base64url'));
    expect(unwrapFieldKey(master, key.id, envelope).equals(key.material)).toBe(true);
    expect(() => unwrapFieldKey(master, newKey().id, envelope)).toThrow(EnvelopeError);
  });
});

const CONTRACT = 'clicks';
const PERSONAL = new Map<string, readonly string[]>([
  ['email', ['marketing']],
  ['ip', ['analytics', 'security']],
  ['address.street', ['delivery']],
  ['items.note', ['support']],
]);
const EVENT: EventData = {
  session: 'session-1',
  url: '/cart',
  email: 'ann@example.com',
  ip: '203.0.113.7',
  address: { street: 'Main St 1', city: 'Utrecht' },
  items: [
    { sku: 'A-1', note: 'gift for Bob' },
    { sku: 'B-2', note: 'ring the bell twice' },
  ],
  consentGiven: true,
};
const PLAINTEXTS = ['ann@example.com', '203.0.113.7', 'Main St 1', 'gift for Bob', 'ring the bell twice'];

function encrypted(data: EventData = EVENT, key = newKey()) {
  return { key, result: encryptEvent(data, { contract: CONTRACT, personal: PERSONAL }, () => key) };
}

describe('encryptEvent', () => {
  it('encrypts every personal value and leaves the rest byte-identical', () => {
    const { key, result } = encrypted();
    const json = JSON.stringify(result.data);
    for (const plaintext of PLAINTEXTS) expect(json).not.toContain(plaintext);
    expect(result.keyId).toBe(key.id);
    expect(result.encrypted).toEqual(expect.arrayContaining([...PERSONAL.keys()]));
    const data = result.data as typeof EVENT & { address: EventData; items: EventData[] };
    expect(JSON.stringify([data['session'], data['url'], data['consentGiven']])).toBe(
      JSON.stringify([EVENT['session'], EVENT['url'], EVENT['consentGiven']]),
    );
    expect(data.address['city']).toBe('Utrecht');
    expect(data.items.map((item) => item['sku'])).toEqual(['A-1', 'B-2']);
    expect(isFieldCiphertext(data['email'])).toBe(true);
    expect(isFieldCiphertext(data.address['street'])).toBe(true);
    expect(data.items.every((item) => isFieldCiphertext(item['note']))).toBe(true);
  });

  it('does not change the event it was given', () => {
    const before = JSON.stringify(EVENT);
    encrypted();
    expect(JSON.stringify(EVENT)).toBe(before);
  });

  it('asks for a key only when there is something personal, and only once', () => {
    let calls = 0;
    const key = newKey();
    const keyFor = () => {
      calls++;
      return key;
    };
    const none = encryptEvent({ url: '/' }, { contract: CONTRACT, personal: PERSONAL }, keyFor);
    expect(none).toEqual({ data: { url: '/' }, keyId: undefined, encrypted: [] });
    expect(calls).toBe(0);
    encryptEvent(EVENT, { contract: CONTRACT, personal: PERSONAL }, keyFor);
    expect(calls).toBe(1);
  });

  it('encrypts null, and a path spelled with a dot in the name', () => {
    const { result } = encrypted({ email: null, 'address.street': 'Elm 2' });
    expect(isFieldCiphertext(result.data['email'])).toBe(true);
    expect(isFieldCiphertext(result.data['address.street'])).toBe(true);
  });

  it('nests an inner personal path inside the outer one', () => {
    const personal = new Map([
      ['address', ['delivery']],
      ['address.street', ['marketing']],
    ]);
    const key = newKey();
    const result = encryptEvent(EVENT, { contract: CONTRACT, personal }, () => key);
    const address = decryptField(
      key,
      { contract: CONTRACT, attribute: 'address' },
      result.data['address'] as string,
    );
    expect(isFieldCiphertext((address as EventData)['street'])).toBe(true);
    expect(keyIdsOf(result.data, personal)).toEqual(new Set([key.id]));
  });
});

describe('deriveEvent', () => {
  const { key, result } = encrypted();
  const lookup: KeyLookup = (keyId) => (keyId === key.id ? key : undefined);
  const stream = (purposes: string[], overrides: Partial<DerivedStreamFields> = {}): DerivedStreamFields => ({
    contract: CONTRACT,
    personal: PERSONAL,
    purposes: new Set(purposes),
    mode: 'keep-encrypted',
    keyLookup: lookup,
    ...overrides,
  });
  const ALL = new Set(['marketing', 'analytics', 'security', 'delivery', 'support']);

  it('leaves out an event whose consent does not cover every purpose', () => {
    expect(deriveEvent(result.data, new Set(['marketing']), stream(['marketing', 'delivery']))).toEqual({
      included: false,
    });
  });

  it('decrypts exactly the attributes of the stream purposes, keeping the rest encrypted', () => {
    const derived = deriveEvent(result.data, ALL, stream(['marketing', 'security']));
    if (!derived.included) throw new Error('expected the event in');
    expect(derived.data['email']).toBe('ann@example.com');
    expect(derived.data['ip']).toBe('203.0.113.7');
    expect(isFieldCiphertext((derived.data['address'] as EventData)['street'])).toBe(true);
    expect((derived.data['items'] as EventData[]).every((item) => isFieldCiphertext(item['note']))).toBe(
      true,
    );
    expect(derived.data['url']).toBe('/cart');
    expect(derived.decrypted).toEqual(['email', 'ip']);
    expect(derived.unreadable).toEqual([]);
    expect(derived.damaged).toEqual([]);
  });

  it('drops what it does not decrypt in drop mode', () => {
    const derived = deriveEvent(result.data, ALL, stream(['support'], { mode: 'drop' }));
    if (!derived.included) throw new Error('expected the event in');
    expect(derived.data).toEqual({
      session: 'session-1',
      url: '/cart',
      address: { city: 'Utrecht' },
      items: [
        { sku: 'A-1', note: 'gift for Bob' },
        { sku: 'B-2', note: 'ring the bell twice' },
      ],
      consentGiven: true,
    });
  });

  it('decrypts nothing for a stream with no purposes', () => {
    const derived = deriveEvent(result.data, new Set(), stream([]));
    expect(derived).toMatchObject({ included: true, data: result.data, decrypted: [] });
  });

  it('makes values of a shredded or unknown key unreadable', () => {
    for (const keyLookup of [() => 'shredded' as const, () => undefined]) {
      const kept = deriveEvent(result.data, ALL, stream(['marketing'], { keyLookup }));
      expect(kept).toMatchObject({ included: true, decrypted: [], unreadable: ['email'], damaged: [] });
      if (!kept.included) throw new Error('expected the event in');
      expect(kept.data['email']).toBeNull();
      expect(isFieldCiphertext(kept.data['ip'])).toBe(true);
      const dropped = deriveEvent(result.data, ALL, stream(['marketing'], { keyLookup, mode: 'drop' }));
      if (!dropped.included) throw new Error('expected the event in');
      expect(dropped.data).not.toHaveProperty('email');
      expect(dropped.data).not.toHaveProperty('ip');
    }
  });

  it('reports a ciphertext moved to another attribute, and never passes a value in clear', () => {
    const moved = { ...result.data, email: result.data['ip'], ip: 'in clear' };
    const derived = deriveEvent(moved, ALL, stream(['marketing']));
    expect(derived).toMatchObject({ included: true, unreadable: ['email'], damaged: ['email', 'ip'] });
    if (!derived.included) throw new Error('expected the event in');
    expect(derived.data['email']).toBeNull();
    expect(derived.data['ip']).toBeNull();
  });

  it('opens an inner personal path only under its own purposes', () => {
    const personal = new Map([
      ['address', ['delivery']],
      ['address.street', ['marketing']],
    ]);
    const inner = encryptEvent(EVENT, { contract: CONTRACT, personal }, () => key).data;
    const delivery = deriveEvent(inner, ALL, stream(['delivery'], { personal }));
    if (!delivery.included) throw new Error('expected the event in');
    const address = delivery.data['address'] as EventData;
    expect(address['city']).toBe('Utrecht');
    expect(isFieldCiphertext(address['street'])).toBe(true);
    const both = deriveEvent(inner, ALL, stream(['delivery', 'marketing'], { personal }));
    expect(both).toMatchObject({ data: { address: { street: 'Main St 1', city: 'Utrecht' } } });
  });
});
