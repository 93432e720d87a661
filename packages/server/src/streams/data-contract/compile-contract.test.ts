import { describe, expect, it } from 'vitest';
import type { DataContractInput } from '@lethe/api';
import {
  clickstreamContract as contract,
  clickstreamEnvelope as envelope,
  clickstreamInput as input,
  purposes,
  validClickstreamData as validData,
} from '../../../test/support/clickstream-contract.js';
import { compileContract } from './compile-contract.js';
import { ContractError, type ContractErrorReason } from './contract-error.js';
import { validateEvent } from './validate-event.js';
import { Taxonomy } from '../../lib/taxonomy.js';

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
