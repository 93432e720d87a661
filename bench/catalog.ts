import type { PolicyInput, SystemInput } from '@lethe/api';
import { parseDuration, type Duration } from '../packages/server/src/lib/duration.js';

/**
 * The company both benchmarks model: 5 policies whose retentions mix days, months and years (so
 * the calendar arithmetic is exercised), with purposes from the default purpose taxonomy, and 12
 * declared fields over 4 systems.
 */
export const POLICIES: Readonly<Record<string, PolicyInput>> = {
  'user-account-access': { purpose: 'essential.account', retention: 'P2Y', legalBasis: 'contract' },
  'order-delivery': { purpose: 'essential.orders', retention: 'P120D', legalBasis: 'contract' },
  'send-marketing-email': {
    purpose: 'marketing.email',
    retention: 'P6M',
    legalBasis: 'legitimate_interests',
  },
  'fraud-prevention': { purpose: 'security.fraud', retention: 'P5Y', legalBasis: 'legal_obligation' },
  'customer-support': {
    purpose: 'essential.service.support',
    retention: 'P18M',
    legalBasis: 'legitimate_interests',
  },
};

const field = (name: string) => ({ name, categories: [] });

export const SYSTEMS: Readonly<Record<string, SystemInput>> = {
  accounts: {
    team: 'identity',
    datasets: [{ name: 'accounts', fields: ['email', 'name', 'password_hash', 'birth_date'].map(field) }],
  },
  shop: {
    team: 'commerce',
    datasets: [{ name: 'orders', fields: ['shipping_address', 'phone', 'payment_token'].map(field) }],
  },
  crm: {
    team: 'marketing',
    datasets: [{ name: 'crm_contacts', fields: ['email', 'segment', 'consent_log'].map(field) }],
  },
  support: {
    team: 'support',
    datasets: [{ name: 'tickets', fields: ['message_body', 'attachments'].map(field) }],
  },
};

export const POLICY_NAMES: readonly string[] = Object.keys(POLICIES).sort();
export const SYSTEM_NAMES: readonly string[] = Object.keys(SYSTEMS).sort();

/** Every declared `dataset.field`, sorted: the order of the stores' (subject, field) keys. */
export const FIELD_NAMES: readonly string[] = Object.values(SYSTEMS)
  .flatMap((system) =>
    (system.datasets ?? []).flatMap((dataset) => dataset.fields.map((f) => `${dataset.name}.${f.name}`)),
  )
  .sort();

/** Retention of each policy, parsed once. */
export const RETENTIONS: ReadonlyMap<string, Duration> = new Map(
  POLICY_NAMES.map((name) => {
    const duration = parseDuration(POLICIES[name]?.retention ?? '');
    if (!duration) throw new Error(`policy ${name} has no valid retention`);
    return [name, duration];
  }),
);

/**
 * The retention as an SQLite date modifier, for the naive baseline, which computes expiries in
 * SQL at query time. `floor` makes month arithmetic clamp to the month's end like Lethe does
 * (2024-01-31 + 1 month = 2024-02-29) instead of overflowing into March.
 */
export function sqliteModifier(retention: Duration): string {
  const units = [retention.years, retention.months, retention.weeks + retention.days].filter(Boolean);
  if (units.length !== 1 || retention.hours || retention.minutes || retention.seconds) {
    throw new Error('the naive baseline handles retentions of one unit (years, months or days) only');
  }
  if (retention.years) return `+${retention.years} years`;
  if (retention.months) return `+${retention.months} months`;
  return `+${retention.days + 7 * retention.weeks} days`;
}
