import type { PolicyInput } from '@lethe/api';
import { POLICIES, POLICY_NAMES } from './catalog.js';

/** Every purpose the benchmark's policies name: what a subject consents to, one grant each. */
export const CONSENT_PURPOSES: readonly string[] = POLICY_NAMES.map((name) => POLICIES[name]!.purpose);

/**
 * The benchmark's five policies, either with their usual legal bases (no consent check) or all
 * with legal basis `consent`, so that every event of the workload goes through the consent check
 * and nothing else differs between the two.
 */
export function consentComparisonPolicies(consentBased: boolean): Record<string, PolicyInput> {
  return Object.fromEntries(
    POLICY_NAMES.map((name) => {
      const policy = POLICIES[name] as PolicyInput;
      return [name, consentBased ? { ...policy, legalBasis: 'consent' } : policy];
    }),
  );
}
