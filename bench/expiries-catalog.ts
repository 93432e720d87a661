import type { HoldInput, PolicyInput } from '@lethe/api';
import { parseDuration, type Duration } from '../packages/server/src/lib/duration.js';
import { POLICIES, RETENTIONS } from './catalog.js';
import { subjectName } from './workload.js';

/**
 * The expiry feed benchmark's catalog: the shared company's policies plus one that counts from an
 * event (`account-closure`: account data kept a year after the account is closed; docs/retention.md
 * "Aging"), and standing legal holds, so that the feed's pages pay for what they must decide per
 * row: holds (every row is checked against them) and fields waiting for an event.
 */
export const ACCOUNT_CLOSURE = 'account-closure';
export const CLOSING_EVENT = 'account-closed';

export const EXPIRY_POLICIES: Readonly<Record<string, PolicyInput>> = {
  ...POLICIES,
  [ACCOUNT_CLOSURE]: {
    purpose: 'essential.account',
    retention: 'P1Y',
    legalBasis: 'legal_obligation',
    since: `event:${CLOSING_EVENT}`,
  },
};

export const EXPIRY_POLICY_NAMES: readonly string[] = Object.keys(EXPIRY_POLICIES).sort();

export const EXPIRY_RETENTIONS: ReadonlyMap<string, Duration> = new Map([
  ...RETENTIONS,
  [ACCOUNT_CLOSURE, parseDuration(EXPIRY_POLICIES[ACCOUNT_CLOSURE]!.retention)!],
]);

/** Share of subjects whose account is closed (the others' closure-policy fields wait). */
export const SHARE_OF_CLOSED_ACCOUNTS = 0.6;

/**
 * Standing holds: one over a whole system (support's tickets, about a quarter of the fields),
 * one over named subjects and one over a policy in one category-free scope.
 */
export const HOLDS: Readonly<Record<string, HoldInput>> = {
  'bench-support-audit': { reason: 'Regulator inquiry into support tickets', systems: ['support'] },
  'bench-litigation': {
    reason: 'Smith v. Shop',
    subjects: Array.from({ length: 500 }, (_, i) => subjectName(i * 997)),
  },
  'bench-fraud-review': {
    reason: 'Internal fraud review',
    policies: ['fraud-prevention'],
    systems: ['shop'],
  },
};
