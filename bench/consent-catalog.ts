import type { PolicyInput } from '@lethe/api';
import { POLICIES, POLICY_NAMES } from './catalog.js';

/**
 * The purpose of each benchmark policy as a key of the default purpose taxonomy: consent is
 * recorded per taxonomy purpose (docs/consent.md), and the catalog's own purposes are not keys.
 */
const TAXONOMY_PURPOSES: Readonly<Record<string, string>> = {
  'user-account-access': 'essential.account',
  'order-delivery': 'essential.orders',
  'send-marketing-email': 'marketing.email',
  'fraud-prevention': 'security.fraud',
  'customer-support': 'essential.service.support',
};

/** Every purpose the benchmark's policies name: what a subject consents to, one grant each. */
export const CONSENT_PURPOSES: readonly string[] = POLICY_NAMES.map((name) => purposeOf(name));

/**
 * The benchmark's five policies with taxonomy purposes and the same retentions, either with their
 * usual legal bases (no consent check) or all with legal basis `consent`, so that every event of
 * the workload goes through the consent check and nothing else differs between the two.
 */
export function consentComparisonPolicies(consentBased: boolean): Record<string, PolicyInput> {
  return Object.fromEntries(
    POLICY_NAMES.map((name) => {
      const policy = POLICIES[name] as PolicyInput;
      return [
        name,
        { ...policy, purpose: purposeOf(name), ...(consentBased ? { legalBasis: 'consent' } : {}) },
      ];
    }),
  );
}

function purposeOf(policy: string): string {
  const purpose = TAXONOMY_PURPOSES[policy];
  if (!purpose) throw new Error(`no taxonomy purpose for policy ${policy}`);
  return purpose;
}
