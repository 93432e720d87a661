import type { Jurisdiction, LegalBasis, RequestStrategy, RequestType } from '@lethe/api';

/**
 * The API's enumerations that forms offer as choices. `@lethe/api` holds them as values, but
 * importing a value would bundle its schema library; so they are listed here, and the compiler
 * checks each list against the API's type: no value that the API does not know, none left out.
 */
type Covers<Union, List extends readonly unknown[]> = [Exclude<Union, List[number]>] extends [never]
  ? true
  : never;

export const LEGAL_BASES = [
  'consent',
  'contract',
  'legal_obligation',
  'vital_interests',
  'public_task',
  'legitimate_interests',
] as const satisfies readonly LegalBasis[];
export const REQUEST_TYPES = ['dsar', 'delete', 'delete_pii'] as const satisfies readonly RequestType[];
export const REQUEST_STRATEGIES = ['exact', 'connected'] as const satisfies readonly RequestStrategy[];
export const JURISDICTIONS = [
  'gdpr',
  'ccpa',
  'pipeda',
  'lgpd',
  'app',
] as const satisfies readonly Jurisdiction[];

export const listsCoverTheApi: [
  Covers<LegalBasis, typeof LEGAL_BASES>,
  Covers<RequestType, typeof REQUEST_TYPES>,
  Covers<RequestStrategy, typeof REQUEST_STRATEGIES>,
  Covers<Jurisdiction, typeof JURISDICTIONS>,
] = [true, true, true, true];

/** `legal_obligation` → `legal obligation`. */
export function spaced(value: string): string {
  return value.replace(/_/g, ' ');
}

/**
 * Statuses of a rights request (the server's `request-status.ts`, which the API sends as text),
 * and those still owed an answer.
 */
export const REQUEST_STATUSES = [
  'received',
  'identity_verified',
  'approved',
  'in_progress',
  'completed',
  'failed',
  'denied',
  'canceled',
] as const;
export const OPEN_REQUEST_STATUSES = ['received', 'identity_verified', 'approved', 'in_progress', 'failed'];
