import type { ContractFields, EventData } from '../packages/server/src/streams/field-crypto.js';

/** The benchmark's event: 10 attributes, 4 of them personal (one key per session). */
export const BENCH_CONTRACT: ContractFields = {
  contract: 'checkout@1',
  personal: new Map([
    ['customerId', ['essential.orders']],
    ['email', ['marketing.email']],
    ['ip', ['security.fraud']],
    ['address.city', ['marketing.profiling']],
  ]),
};

export function benchEvent(n: number): EventData {
  return {
    sessionId: `s-${n % 1000}`,
    customerId: `c-${n % 5000}`,
    email: `person${n % 5000}@example.com`,
    ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    address: { city: 'Amsterdam', country: 'NL' },
    url: `https://shop.example/p/${n % 977}`,
    amountCents: 1999 + (n % 100),
    currency: 'EUR',
    items: 1 + (n % 5),
    at: '2026-11-23T10:00:00Z',
  };
}
