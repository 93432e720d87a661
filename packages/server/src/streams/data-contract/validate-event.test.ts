import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clickstreamContract as contract,
  clickstreamEnvelope as envelope,
  validClickstreamData as validData,
} from '../../../test/support/clickstream-contract.js';
import { validateEvent } from './validate-event.js';

function reasons(event: unknown): { code: string; path: string; rule?: string }[] {
  const result = validateEvent(contract, event);
  if (result.ok) return [];
  return result.reasons.map(({ code, path, rule }) =>
    rule === undefined ? { code, path } : { code, path, rule },
  );
}

describe('validateEvent', () => {
  it('accepts a conforming event and picks out key link, subject, consent and personal attributes', () => {
    const result = validateEvent(contract, envelope(validData, { at: '2024-03-01T10:00:00Z' }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { event } = result;
    expect(event.id).toBe('e-1');
    expect(event.contract).toEqual({ name: 'clickstream', version: 2 });
    expect(event.at).toBe('2024-03-01T10:00:00Z');
    expect(event.keyLinkValue).toBe('s-9');
    expect(event.subjectValue).toBe('c-123');
    expect(event.consent).toEqual(new Set(['essential', 'marketing.email']));
    // address.city is personal but absent from this event
    expect([...event.personal]).toEqual([
      ['customerId', ['essential.orders']],
      ['email', ['marketing.email', 'essential.account']],
    ]);
    expect(event.data).toEqual(validData);
  });

  it('rejects missing mandatory attributes, top level and nested', () => {
    const { customerId: _c, order: _o, ...rest } = validData;
    expect(reasons(envelope(rest))).toEqual([
      { code: 'MISSING_ATTRIBUTE', path: 'data.customerId' },
      { code: 'MISSING_ATTRIBUTE', path: 'data.order' },
    ]);
    expect(reasons(envelope({ ...validData, order: { items: [{ qty: 1 }] } }))).toEqual([
      { code: 'MISSING_ATTRIBUTE', path: 'data.order.number' },
      { code: 'MISSING_ATTRIBUTE', path: 'data.order.items[0].sku' },
    ]);
  });

  it('rejects extra attributes, also in nested objects and with odd names', () => {
    expect(
      reasons(envelope({ ...validData, phone: '+31', address: { city: 'Utrecht', street: 'Oudegracht' } })),
    ).toEqual([
      { code: 'EXTRA_ATTRIBUTE', path: 'data.phone' },
      { code: 'EXTRA_ATTRIBUTE', path: 'data.address.street' },
    ]);
    expect(reasons(envelope({ ...validData, 'a.b': 1 }))).toEqual([
      { code: 'EXTRA_ATTRIBUTE', path: 'data["a.b"]' },
    ]);
  });

  it('rejects wrong types with what was expected and what came', () => {
    const result = validateEvent(
      contract,
      envelope({
        ...validData,
        url: 42,
        channel: 3,
        order: { number: 'o', items: [{ sku: 'a', qty: 1.5 }] },
      }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reasons.map(({ code, path, expected, got }) => ({ code, path, expected, got }))).toEqual([
      { code: 'WRONG_TYPE', path: 'data.url', expected: 'string', got: 'number' },
      { code: 'WRONG_TYPE', path: 'data.channel', expected: 'string or null', got: 'number' },
      { code: 'WRONG_TYPE', path: 'data.order.items[0].qty', expected: 'integer', got: 'number' },
    ]);
    expect(result.reasons[0]?.message).toBe('data.url must be string, not number.');
  });

  it('rejects data that is not an object', () => {
    expect(reasons(envelope([] as unknown as Record<string, unknown>))).toEqual([
      { code: 'WRONG_TYPE', path: 'data' },
    ]);
  });

  it('rejects rule violations from the rules and from schema keywords', () => {
    const data = {
      ...validData,
      customerId: 'c1',
      url: 'http://plain.example',
      score: 1.5,
      channel: 'fax',
      address: { zip: '12' },
      order: { number: 'o-1', total: -3 },
    };
    expect(reasons(envelope(data))).toEqual([
      { code: 'RULE_VIOLATION', path: 'data.customerId', rule: 'minLength' },
      { code: 'RULE_VIOLATION', path: 'data.order.total', rule: 'minimum' },
      { code: 'RULE_VIOLATION', path: 'data.url', rule: 'pattern' },
      { code: 'RULE_VIOLATION', path: 'data.score', rule: 'maximum' },
      { code: 'RULE_VIOLATION', path: 'data.address.zip', rule: 'minLength' },
      { code: 'RULE_VIOLATION', path: 'data.channel', rule: 'enum' },
    ]);
    expect(
      reasons(envelope({ ...data, customerId: 'c-1', url: 'https://x', score: 0, channel: null })),
    ).toEqual([
      { code: 'RULE_VIOLATION', path: 'data.order.total', rule: 'minimum' },
      { code: 'RULE_VIOLATION', path: 'data.address.zip', rule: 'minLength' },
      { code: 'RULE_VIOLATION', path: 'data.channel', rule: 'enum' },
    ]);
  });

  it('checks rules on a value of the wrong type only through WRONG_TYPE', () => {
    expect(reasons(envelope({ ...validData, score: 'high' }))).toEqual([
      { code: 'WRONG_TYPE', path: 'data.score' },
    ]);
  });

  it('names the rule and the pattern in the message', () => {
    const result = validateEvent(contract, envelope({ ...validData, url: 'ftp://x' }));
    expect(result.ok ? [] : result.reasons.map((reason) => reason.message)).toEqual([
      'data.url must match pattern "^https://".',
    ]);
  });

  it('gives every reason at once: envelope, consent and data', () => {
    const event = {
      id: '',
      contract: 'clickstream@2',
      consent: ['marketing', 'spam', 7],
      at: 'yesterday',
      data: { ...validData, sessionId: 9, extra: true, order: {} },
      trace: 'x',
    };
    expect(reasons(event)).toEqual([
      { code: 'INVALID_ENVELOPE', path: 'trace' },
      { code: 'INVALID_ENVELOPE', path: 'id' },
      { code: 'CONSENT_INVALID', path: 'consent[1]' },
      { code: 'CONSENT_INVALID', path: 'consent[2]' },
      { code: 'INVALID_ENVELOPE', path: 'at' },
      { code: 'EXTRA_ATTRIBUTE', path: 'data.extra' },
      { code: 'WRONG_TYPE', path: 'data.sessionId' },
      { code: 'MISSING_ATTRIBUTE', path: 'data.order.number' },
    ]);
  });

  it.each<[string, unknown, { code: string; path: string }[]]>([
    ['a non-object event', 'hello', [{ code: 'INVALID_ENVELOPE', path: '' }]],
    ['null', null, [{ code: 'INVALID_ENVELOPE', path: '' }]],
    [
      'no data',
      { id: 'e', contract: 'clickstream@2', consent: [] },
      [{ code: 'INVALID_ENVELOPE', path: 'data' }],
    ],
    [
      'a malformed contract reference',
      envelope(validData, { contract: 'clickstream' }),
      [{ code: 'INVALID_ENVELOPE', path: 'contract' }],
    ],
    [
      'another contract',
      envelope(validData, { contract: 'pageviews@2' }),
      [{ code: 'UNKNOWN_CONTRACT', path: 'contract' }],
    ],
    [
      'another version',
      envelope(validData, { contract: 'clickstream@1' }),
      [{ code: 'CONTRACT_VERSION_MISMATCH', path: 'contract' }],
    ],
    [
      'missing consent',
      envelope(validData, { consent: undefined }),
      [{ code: 'CONSENT_INVALID', path: 'consent' }],
    ],
    [
      'consent as a string',
      envelope(validData, { consent: 'all' }),
      [{ code: 'CONSENT_INVALID', path: 'consent' }],
    ],
  ])('rejects %s', (_name, event, expected) => {
    expect(reasons(event)).toEqual(expected);
  });

  it('accepts an empty consent: the subject allows no personal use', () => {
    const result = validateEvent(contract, envelope(validData, { consent: [] }));
    expect(result.ok && result.event.consent.size).toBe(0);
  });

  it('never throws on arbitrary input', () => {
    const known = ['essential', 'marketing.email', 'nope'];
    const data = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          sessionId: fc.oneof(fc.string(), fc.integer()),
          customerId: fc.string(),
          url: fc.oneof(fc.constant('https://a'), fc.string()),
          score: fc.oneof(fc.double(), fc.string()),
          channel: fc.oneof(fc.constantFrom('web', 'app', null), fc.jsonValue()),
          order: fc.oneof(fc.jsonValue(), fc.record({ number: fc.jsonValue(), items: fc.jsonValue() })),
          address: fc.dictionary(fc.constantFrom('city', 'zip', 'x.y'), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
    );
    const event = fc.oneof(
      fc.anything(),
      fc.record(
        {
          id: fc.oneof(fc.string(), fc.jsonValue()),
          contract: fc.oneof(fc.constantFrom('clickstream@2', 'clickstream@1', 'x@2'), fc.string()),
          consent: fc.oneof(fc.array(fc.constantFrom(...known)), fc.jsonValue()),
          at: fc.oneof(fc.constant('2024-01-01T00:00:00Z'), fc.string()),
          data,
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(event, (candidate) => {
        const result = validateEvent(contract, candidate);
        if (result.ok) {
          expect(typeof result.event.keyLinkValue).toBe('string');
          expect(typeof result.event.subjectValue).toBe('string');
        } else {
          expect(result.reasons.length).toBeGreaterThan(0);
          for (const reason of result.reasons) expect(typeof reason.message).toBe('string');
        }
      }),
      { numRuns: 500 },
    );
  });
});
