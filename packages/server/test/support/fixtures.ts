import type { PolicyInput, SystemInput, UsageEvent } from '@lethe/api';
import { LETHE_ITSELF } from '../../src/auth/principal.js';
import type { Services } from '../../src/services.js';

export const POLICIES: Record<string, PolicyInput> = {
  'user-account-access': { purpose: 'essential.account', retention: 'P2Y', legalBasis: 'contract' },
  'order-delivery': { purpose: 'essential.orders', retention: 'P120D', legalBasis: 'contract' },
  'send-marketing-email': { purpose: 'marketing.email', retention: 'P6M', legalBasis: 'consent' },
};

export const SYSTEMS: Record<string, SystemInput> = {
  accounts: {
    team: 'identity',
    datasets: [
      {
        name: 'accounts',
        fields: [
          { name: 'email', categories: ['user.contact.email'] },
          { name: 'name', categories: ['user.name'] },
        ],
      },
    ],
  },
  orders: {
    team: 'commerce',
    datasets: [{ name: 'orders', fields: [{ name: 'address', categories: ['user.contact.address'] }] }],
  },
  mailer: { team: 'growth', datasets: [] },
};

export async function loadFixtures(services: Services): Promise<void> {
  for (const [name, input] of Object.entries(POLICIES))
    await services.policies.put(LETHE_ITSELF, name, input);
  for (const [name, input] of Object.entries(SYSTEMS)) await services.systems.put(LETHE_ITSELF, name, input);
}

let sequence = 0;
export function usage(
  subject: string,
  policy: string,
  fields: string[],
  at: string,
  system = policy === 'order-delivery' ? 'orders' : policy === 'send-marketing-email' ? 'mailer' : 'accounts',
): UsageEvent {
  sequence += 1;
  return { id: `evt-${process.pid}-${sequence}`, subject, system, policy, fields, at };
}
