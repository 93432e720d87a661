import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DataContractInput } from '@lethe/api';
import {
  compileContract,
  contractRefOf,
  ContractError,
  parseContractRef,
  purposesCovered,
  validateEvent,
  type ContractErrorReason,
} from './data-contract.js';
import { Taxonomy } from '../lib/taxonomy.js';

const purposes = Taxonomy.purposes();

const input: DataContractInput = {
  version: 2,
  schema: {
    type: 'object',
    required: ['sessionId', 'customerId', 'url', 'order'],
    properties: {
      sessionId: { type: 'string' },
      customerId: { type: 'string', minLength: 3 },
      url: { type: 'string' },
      email: { type: 'string' },
      score: { type: 'number' },
      channel: { type: ['string', 'null'] },
      order: {
        type: 'object',
        required: ['number'],
        properties: {
          number: { type: 'string' },
          total: { type: 'number', minimum: 0 },
          items: {
            type: 'array',
            items: {
              type: 'object',
              required: ['sku'],
              properties: { sku: { type: 'string' }, qty: { type: 'integer' } },
            },
          },
        },
      },
      address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'string' } } },
    },
  },
  keyLink: 'sessionId',
  subject: 'customerId',
  personal: [
    { attribute: 'customerId', purposes: ['essential.orders'] },
    { attribute: 'email', purposes: ['marketing.email', 'essential.account'] },
    { attribute: 'address.city', purposes: ['marketing.profiling'] },
  ],
  rules: [
    { attribute: 'url', pattern: '^https://' },
    { attribute: 'score', minimum: 0, maximum: 1 },
    { attribute: 'address.zip', minLength: 4, maxLength: 7 },
    { attribute: 'channel', enum: ['web', 'app'] },
  ],
};
const contract = compileContract('clickstream', input, purposes);

function envelope(
  data: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { id: 'e-1', contract: 'clickstream@2', consent: ['essential', 'marketing.email'], data, ...extra };
}
const validData = {
  sessionId: 's-9',
  customerId: 'c-123',
  url: 'https://shop.example/cart',
  email: 'ann@example.com',
  order: { number: 'o-1', items: [{ sku: 'a', qty: 2 }] },
};

function reasons(event: unknown): { code: string; path: string; rule?: string }[] {
  const result = validateEvent(contract, event);
  if (result.ok) return [];
  return result.reasons.map(({ code, path, rule }) =>
    rule === undefined ? { code, path } : { code, path, rule },
  );
}

function contractError(change: (copy: DataContractInput) => void): {
  path: string;
  reason: ContractErrorReason;
} {
  const copy = structuredClone(input);
  change(copy);
  try {
    compileContract('clickstream', copy, purposes);
  } catch (error) {
    if (error instanceof ContractError) {
      expect(error.code).toBe('CONTRACT_INVALID');
      expect(error.details).toEqual({ path: error.path, reason: error.reason });
      return { path: error.path, reason: error.reason };
    }
    throw error;
  }
  throw new Error('expected a ContractError');
}

type Schema = Record<string, unknown> & { properties: Record<string, Record<string, unknown>> };
const schemaOf = (copy: DataContractInput): Schema => copy.schema as unknown as Schema;

describe('compileContract', () => {
  it('compiles a contract: key link, subject, personal attributes, closed objects', () => {
    expect(contract.ref).toBe('clickstream@2');
    expect(contract.keyLink).toBe('sessionId');
    expect(contract.subject).toBe('customerId');
    expect([...contract.personal.keys()]).toEqual(['customerId', 'email', 'address.city']);
    expect(contract.schema.additionalProperties).toBe(false);
    const address = (contract.schema.properties as Schema['properties'])['address'];
    expect(address?.additionalProperties).toBe(false);
    expect(input.schema).not.toHaveProperty('additionalProperties');
  });

  it('keeps additionalProperties where the schema says it', () => {
    const open = compileContract(
      'open',
      { ...input, schema: { ...input.schema, additionalProperties: true } },
      purposes,
    );
    expect(validateEvent(open, { ...envelope({ ...validData, anything: 1 }), contract: 'open@2' }).ok).toBe(
      true,
    );
  });

  it('accepts the 2020-12 dialect and annotations', () => {
    const schema = {
      ...input.schema,
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'Clicks',
    };
    expect(compileContract('clickstream', { ...input, schema }, purposes).name).toBe('clickstream');
  });

  it.each<[string, (copy: DataContractInput) => void, { path: string; reason: ContractErrorReason }]>([
    ['a version of 0', (c) => (c.version = 0), { path: 'version', reason: 'invalid_version' }],
    ['a fractional version', (c) => (c.version = 1.5), { path: 'version', reason: 'invalid_version' }],
    [
      'an array schema',
      (c) => (c.schema = { type: 'array' } as unknown as DataContractInput['schema']),
      { path: 'schema', reason: 'schema_not_object' },
    ],
    [
      'a combinator',
      (c) => (schemaOf(c).properties['url'] = { anyOf: [{ type: 'string' }, { type: 'number' }] }),
      { path: 'schema.properties.url.anyOf', reason: 'unsupported_keyword' },
    ],
    [
      'a $ref',
      (c) => (schemaOf(c).properties['url'] = { $ref: '#/$defs/url' }),
      { path: 'schema.properties.url.$ref', reason: 'unsupported_keyword' },
    ],
    [
      'a draft-07 dialect',
      (c) => (schemaOf(c)['$schema'] = 'http://json-schema.org/draft-07/schema#'),
      { path: 'schema.$schema', reason: 'unsupported_keyword' },
    ],
    [
      'an unknown type',
      (c) => (schemaOf(c).properties['url'] = { type: 'text' }),
      { path: 'schema.properties.url.type', reason: 'invalid_schema' },
    ],
    [
      'a bad keyword value',
      (c) => (schemaOf(c).properties['url'] = { type: 'string', minLength: -1 }),
      { path: 'schema.properties.url.minLength', reason: 'invalid_schema' },
    ],
    [
      'properties without type object',
      (c) => (schemaOf(c).properties['address'] = { properties: { city: { type: 'string' } } }),
      { path: 'schema', reason: 'invalid_schema' },
    ],
    [
      'required naming an undeclared attribute',
      (c) => ((schemaOf(c)['required'] as string[]).push('nowhere'), undefined),
      { path: 'schema', reason: 'invalid_schema' },
    ],
    [
      'an invalid pattern in the schema',
      (c) => (schemaOf(c).properties['url'] = { type: 'string', pattern: '(' }),
      { path: 'schema.properties.url.pattern', reason: 'invalid_pattern' },
    ],
    [
      'a dotted attribute name',
      (c) => (schemaOf(c).properties['a.b'] = { type: 'string' }),
      { path: 'schema.properties.a.b', reason: 'invalid_attribute_name' },
    ],
    [
      'an undeclared key link',
      (c) => (c.keyLink = 'session'),
      { path: 'keyLink', reason: 'attribute_not_declared' },
    ],
    [
      'a key link through an array',
      (c) => (c.keyLink = 'order.items.sku'),
      { path: 'keyLink', reason: 'attribute_not_declared' },
    ],
    [
      'an empty path segment',
      (c) => (c.keyLink = 'order..number'),
      { path: 'keyLink', reason: 'attribute_not_declared' },
    ],
    ['a numeric key link', (c) => (c.keyLink = 'score'), { path: 'keyLink', reason: 'attribute_not_string' }],
    [
      'a nullable key link',
      (c) => (c.keyLink = 'channel'),
      { path: 'keyLink', reason: 'attribute_not_string' },
    ],
    [
      'an optional key link',
      (c) => (c.keyLink = 'email'),
      { path: 'keyLink', reason: 'attribute_not_required' },
    ],
    [
      'a key link below an optional object',
      (c) => (c.keyLink = 'address.city'),
      { path: 'keyLink', reason: 'attribute_not_required' },
    ],
    [
      'an undeclared subject',
      (c) => (c.subject = 'customer'),
      { path: 'subject', reason: 'attribute_not_declared' },
    ],
    ['an object subject', (c) => (c.subject = 'order'), { path: 'subject', reason: 'attribute_not_string' }],
    [
      'an optional subject',
      (c) => (c.subject = 'email'),
      { path: 'subject', reason: 'attribute_not_required' },
    ],
    [
      'a nested required key link is fine, but personal',
      (c) => {
        c.keyLink = 'order.number';
        c.personal.push({ attribute: 'order', purposes: ['essential.orders'] });
      },
      { path: 'keyLink', reason: 'key_link_personal' },
    ],
    [
      'an undeclared personal attribute',
      (c) => c.personal.push({ attribute: 'phone', purposes: ['essential'] }),
      { path: 'personal[3].attribute', reason: 'attribute_not_declared' },
    ],
    [
      'a personal attribute listed twice',
      (c) => c.personal.push({ attribute: 'email', purposes: ['essential'] }),
      { path: 'personal[3].attribute', reason: 'duplicate_personal' },
    ],
    [
      'overlapping personal attributes',
      (c) => c.personal.push({ attribute: 'address', purposes: ['essential'] }),
      { path: 'personal[3].attribute', reason: 'duplicate_personal' },
    ],
    [
      'a personal attribute without purposes',
      (c) => c.personal.push({ attribute: 'url', purposes: [] }),
      { path: 'personal[3].purposes', reason: 'no_purposes' },
    ],
    [
      'an unknown purpose',
      (c) => c.personal.push({ attribute: 'url', purposes: ['analytics', 'marketing.spam'] }),
      { path: 'personal[3].purposes[1]', reason: 'unknown_purpose' },
    ],
    [
      'a rule on an undeclared attribute',
      (c) => c.rules?.push({ attribute: 'phone', pattern: '^\\+' }),
      { path: 'rules[4].attribute', reason: 'attribute_not_declared' },
    ],
    [
      'an invalid regex in a rule',
      (c) => c.rules?.push({ attribute: 'url', pattern: '[a-' }),
      { path: 'rules[4].pattern', reason: 'invalid_pattern' },
    ],
    [
      'a rule without constraints',
      (c) => c.rules?.push({ attribute: 'url' }),
      { path: 'rules[4]', reason: 'invalid_rule' },
    ],
    [
      'a string rule on a number',
      (c) => c.rules?.push({ attribute: 'score', maxLength: 3 }),
      { path: 'rules[4].maxLength', reason: 'invalid_rule' },
    ],
    [
      'a number rule on a string',
      (c) => c.rules?.push({ attribute: 'url', minimum: 3 }),
      { path: 'rules[4].minimum', reason: 'invalid_rule' },
    ],
    [
      'minimum above maximum',
      (c) => c.rules?.push({ attribute: 'score', minimum: 2, maximum: 1 }),
      { path: 'rules[4]', reason: 'invalid_rule' },
    ],
    [
      'minLength above maxLength',
      (c) => c.rules?.push({ attribute: 'url', minLength: 9, maxLength: 1 }),
      { path: 'rules[4]', reason: 'invalid_rule' },
    ],
    [
      'an empty enum',
      (c) => c.rules?.push({ attribute: 'url', enum: [] }),
      { path: 'rules[4].enum', reason: 'invalid_rule' },
    ],
  ])('refuses %s', (_name, change, expected) => {
    expect(contractError(change)).toEqual(expected);
  });

  it('refuses a bad contract name', () => {
    expect(() => compileContract('click stream', input, purposes)).toThrow(ContractError);
    expect(() => compileContract('a@b', input, purposes)).toThrow(/not a contract name/);
  });

  it('accepts purposes added to the taxonomy', () => {
    const extended = Taxonomy.purposes([{ key: 'marketing.email.digest', description: 'Weekly digest.' }]);
    const copy = structuredClone(input);
    copy.personal.push({ attribute: 'url', purposes: ['marketing.email.digest'] });
    expect(compileContract('clickstream', copy, extended).personal.get('url')).toEqual([
      'marketing.email.digest',
    ]);
    expect(() => compileContract('clickstream', copy, purposes)).toThrow(ContractError);
  });
});

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

describe('contract references', () => {
  it('parses name@version', () => {
    expect(parseContractRef('clickstream@12')).toEqual({ name: 'clickstream', version: 12 });
    expect(parseContractRef('clickstream@0')).toBeUndefined();
    expect(parseContractRef('clickstream@v1')).toBeUndefined();
    expect(parseContractRef('@1')).toBeUndefined();
    expect(contractRefOf({ contract: 'a.b-c@3' })).toEqual({ name: 'a.b-c', version: 3 });
    expect(contractRefOf({ contract: 3 })).toBeUndefined();
  });
});

describe('purposesCovered', () => {
  it('covers a purpose by itself or by a parent, never by a child', () => {
    expect(purposesCovered(['marketing.email'], ['marketing.email'], purposes)).toBe(true);
    expect(
      purposesCovered(['marketing'], ['marketing.email', 'marketing.advertising.third_party'], purposes),
    ).toBe(true);
    expect(purposesCovered(['marketing.email'], ['marketing'], purposes)).toBe(false);
    expect(purposesCovered(['marketing'], ['marketing.email', 'analytics'], purposes)).toBe(false);
    expect(
      purposesCovered(new Set(['essential', 'analytics']), ['essential.orders', 'analytics'], purposes),
    ).toBe(true);
  });

  it('does not mistake a prefix for a parent', () => {
    const extended = Taxonomy.purposes([{ key: 'marketing.email_digest', description: 'x' }]);
    expect(purposesCovered(['marketing.email'], ['marketing.email_digest'], extended)).toBe(false);
  });

  it('covers no purposes with any consent, and nothing with no consent', () => {
    expect(purposesCovered([], [], purposes)).toBe(true);
    expect(purposesCovered([], ['essential'], purposes)).toBe(false);
  });
});
