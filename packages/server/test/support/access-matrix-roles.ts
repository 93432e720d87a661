import type { MintRequest } from '../../src/auth/tokens.js';

/**
 * The callers of the access matrix (access-matrix.ts) and the shape of one expectation.
 */
export type Caller = 'admin' | 'dpo' | 'auditor' | 'auditorWithIds' | 'service';
export const CALLERS: Record<Caller, Omit<MintRequest, 'ttlSeconds'>> = {
  admin: { subject: 'matrix-admin', role: 'admin' },
  dpo: { subject: 'matrix-dpo', role: 'dpo' },
  auditor: { subject: 'matrix-auditor', role: 'auditor' },
  auditorWithIds: { subject: 'matrix-auditor-ids', role: 'auditor', grants: ['subject-ids'] },
  service: { subject: 'matrix-service', role: 'service', system: 'accounts' },
};
export const ALL: Caller[] = ['admin', 'dpo', 'auditor', 'auditorWithIds', 'service'];
export const READERS: Caller[] = ['admin', 'dpo', 'auditor', 'auditorWithIds'];

export interface Expectation {
  /** Callers allowed; everyone else gets 403 FORBIDDEN unless `refusals` names another code. */
  allowed: Caller[] | 'public';
  refusals?: Partial<Record<Caller, string>>;
  /** A function is called after `prepare`, for a URL naming what it prepared. */
  url?: string | (() => string);
  /** A function makes a fresh payload per call (e.g. a request for another person). */
  payload?: unknown;
  /** Sent as text with this content type instead of JSON. */
  contentType?: string;
  /** What an allowed caller gets when the route's own rules refuse the prepared state (default 2xx). */
  allowedStatus?: number;
  /** Run as admin before each caller's request, e.g. to recreate what a DELETE removes. */
  prepare?: () => Promise<unknown>;
  /** The route lists every category: a category-limited token is refused (CATEGORY_NOT_PERMITTED). */
  unlimitedOnly?: boolean;
}

export const SUBJECT = 'matrix-subject';
