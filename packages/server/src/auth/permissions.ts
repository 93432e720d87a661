import { AppError } from '../domain/app-error.js';
import type { Principal, Role } from './principal.js';

/**
 * The one table of who may do what (deny by default). `service` tokens are further limited to
 * their own system inside the services (publish, expiry feed, erasures).
 */
export const PERMISSIONS = {
  'policies:read': ['admin', 'dpo', 'auditor', 'service'],
  'policies:write': ['admin', 'dpo'],
  'systems:read': ['admin', 'dpo', 'auditor', 'service'],
  'systems:write': ['admin', 'dpo'],
  'events:publish': ['admin', 'service'],
  'subjects:read': ['admin', 'dpo'],
  'expiries:read': ['admin', 'dpo', 'service'],
  'erasures:write': ['admin', 'dpo', 'service'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof PERMISSIONS;

export function can(principal: Principal, action: Action): boolean {
  return (PERMISSIONS[action] as readonly Role[]).includes(principal.role);
}

export function authorize(principal: Principal, action: Action): void {
  if (!can(principal, action)) {
    throw new AppError('FORBIDDEN', `Role "${principal.role}" may not ${action.replace(':', ' ')}.`);
  }
}

/** A `service` principal may act only for its own system; other roles for any. */
export function mayActForSystem(principal: Principal, system: string): boolean {
  return principal.role !== 'service' || principal.system === system;
}
