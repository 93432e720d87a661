import type { DataContractInput } from '@lethe/api';
import { compileContract } from '../../src/streams/data-contract/compile-contract.js';
import { Taxonomy } from '../../src/lib/taxonomy.js';

/**
 * The `clickstream@2` contract the data-contract unit tests compile and validate against: nested
 * objects and arrays, a nullable attribute, personal attributes (one nested) and a rule of each kind.
 */
export const purposes = Taxonomy.purposes();

export const clickstreamInput: DataContractInput = {
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
export const clickstreamContract = compileContract('clickstream', clickstreamInput, purposes);

/** An envelope for `clickstream@2` around `data`, with `extra` envelope attributes laid over it. */
export function clickstreamEnvelope(
  data: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { id: 'e-1', contract: 'clickstream@2', consent: ['essential', 'marketing.email'], data, ...extra };
}

/** Data that conforms to `clickstream@2`. */
export const validClickstreamData = {
  sessionId: 's-9',
  customerId: 'c-123',
  url: 'https://shop.example/cart',
  email: 'ann@example.com',
  order: { number: 'o-1', items: [{ sku: 'a', qty: 2 }] },
};
