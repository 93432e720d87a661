import { AppError } from '../lib/app-error.js';
import { hasGrant, ROLES, type Principal, type Role } from './principal.js';

/**
 * The one table of who may do what (deny by default). Every `/v1` route names its action; the
 * HTTP layer refuses early and every service function checks again with the principal it is
 * given. Narrower scopes (a service's own system, a token's categories, an auditor's subject-id
 * grant) are applied inside the services; `SCOPES` says which, for the docs.
 */
export const PERMISSIONS = {
  'policies:read': ['admin', 'dpo', 'auditor', 'service'],
  'policies:write': ['admin', 'dpo'],
  'systems:read': ['admin', 'dpo', 'auditor', 'service'],
  'systems:write': ['admin', 'dpo'],
  'discovery:write': ['admin'],
  'discovery:run': ['admin', 'dpo'],
  'manifest:apply': ['admin', 'dpo'],
  'manifest:export': ['admin', 'dpo', 'auditor'],
  'reports:read': ['admin', 'dpo', 'auditor'],
  'requests:create': ['admin', 'dpo'],
  'requests:read': ['admin', 'dpo', 'auditor'],
  'requests:manage': ['admin', 'dpo'],
  'requests:package': ['admin', 'dpo'],
  'tickets:complete': ['admin', 'dpo', 'service'],
  'connectors:read': ['admin', 'dpo', 'auditor'],
  'connectors:write': ['admin'],
  'events:publish': ['admin', 'service'],
  'events:correct': ['admin', 'dpo'],
  'subjects:read': ['admin', 'dpo', 'auditor'],
  'expiries:read': ['admin', 'dpo', 'auditor', 'service'],
  'erasures:write': ['admin', 'dpo', 'service'],
  'holds:read': ['admin', 'dpo', 'auditor'],
  'holds:write': ['admin', 'dpo'],
  'subjects:expire': ['admin', 'dpo'],
  'consent:read': ['admin', 'dpo', 'auditor'],
  'consent:write': ['admin', 'dpo', 'service'],
  // The DPO monitors compliance (GDPR Art. 39(1)(b)): who read or changed what is its evidence.
  'audit:read': ['admin', 'dpo', 'auditor'],
  'audit:checkpoint': ['admin'],
  'keys:rotate': ['admin'],
  'contracts:read': ['admin', 'dpo', 'auditor', 'service'],
  'contracts:write': ['admin', 'dpo'],
  'streams:publish': ['admin', 'service'],
  'streams:read': ['admin', 'service'],
  'stream-keys:read': ['admin', 'dpo', 'auditor'],
  'stream-keys:shred': ['admin', 'dpo'],
  'stream-exports:read': ['admin', 'dpo', 'auditor'],
  'stream-exports:write': ['admin'],
  'overview:read': ['admin', 'dpo', 'auditor', 'service'],
  'jobs:read': ['admin', 'dpo', 'auditor'],
  'session:read': ['admin', 'dpo', 'auditor', 'service'],
  'webhooks:read': ['admin', 'dpo'],
  'webhooks:write': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof PERMISSIONS;

/** Limits inside an allowed action, by role; rendered into docs/security.md. */
export const SCOPES: Partial<Record<Action, Partial<Record<Role, string>>>> = {
  'policies:read': { service: "a preview counts its own system's fields" },
  'manifest:apply': { dpo: 'discovery sources, connectors and webhooks need an admin' },
  'manifest:export': { auditor: 'without webhook subscriptions' },
  'events:publish': { service: 'own system only' },
  'subjects:read': {
    auditor: 'subject view only with the `subject-ids` grant; re-appearances pseudonymised',
  },
  'expiries:read': {
    service: "fields of its own system's datasets",
    auditor: 'subject ids pseudonymised unless granted',
  },
  'erasures:write': { service: 'own system only' },
  'consent:read': { auditor: 'subject ids pseudonymised unless granted; history only with the grant' },
  'requests:read': { auditor: 'without identifiers or matching values' },
  'tickets:complete': { service: "tickets of its own system's tasks only" },
  'audit:read': { auditor: 'subject ids pseudonymised unless granted' },
  'overview:read': { service: "own system's expiry figures only" },
};

/**
 * Actions whose every route answers for every data category (rights requests, legal holds,
 * connectors, the manifest export, the reports): a token limited to some categories may not use
 * them at all. The HTTP layer refuses it early (403 `CATEGORY_NOT_PERMITTED`), the services again,
 * and `GET /v1/session` leaves these actions out of such a token's list.
 */
export const UNLIMITED_ONLY: ReadonlySet<Action> = new Set<Action>([
  'reports:read',
  'manifest:export',
  'requests:create',
  'requests:read',
  'requests:manage',
  'requests:package',
  'connectors:read',
  'connectors:write',
  'holds:read',
  'holds:write',
]);

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && Object.hasOwn(PERMISSIONS, value);
}

export function can(principal: Principal, action: Action): boolean {
  return (PERMISSIONS[action] as readonly Role[]).includes(principal.role);
}

export function authorize(principal: Principal, action: Action): void {
  if (!can(principal, action)) {
    throw new AppError('FORBIDDEN', `Role "${principal.role}" may not ${action.replace(':', ' ')}.`);
  }
}

/**
 * Whether the principal may use `action` at all: its role holds it, and its category limits (if
 * any) do not rule out every route of it. What `GET /v1/session` lists; narrower scopes still apply.
 */
export function mayUse(principal: Principal, action: Action): boolean {
  return can(principal, action) && !(principal.categories !== undefined && UNLIMITED_ONLY.has(action));
}

/**
 * The route-level check: the role holds `action`, and a category-limited token is refused an
 * action that only answers for every category.
 */
export function authorizeAction(principal: Principal, action: Action): void {
  authorize(principal, action);
  if (UNLIMITED_ONLY.has(action)) {
    requireAllCategories(principal, `Permission ${action} answers for every category`);
  }
}

/**
 * For answers that span every data category (a record of processing, an export, a rights
 * request): a token limited to some categories is refused rather than shown a partial answer.
 */
export function requireAllCategories(principal: Principal, what: string): void {
  if (principal.categories !== undefined) {
    throw new AppError('CATEGORY_NOT_PERMITTED', `${what}; it needs a token without category limits.`);
  }
}

/** A `service` principal may act only for its own system; other roles for any. */
export function mayActForSystem(principal: Principal, system: string): boolean {
  return principal.role !== 'service' || principal.system === system;
}

/** Whether real subject ids may be shown to the principal; auditors see pseudonyms unless granted. */
export function maySeeSubjectIds(principal: Principal): boolean {
  return principal.role !== 'auditor' || hasGrant(principal, 'subject-ids');
}

/**
 * The permission table as Markdown, for docs/security.md (a test keeps the two equal); the last
 * column marks the actions a category-limited token is refused whatever its role.
 */
export function renderPermissionTable(): string {
  const header = `| action | ${ROLES.join(' | ')} | with categories |`;
  const rule = `| --- | ${ROLES.map(() => '---').join(' | ')} | --- |`;
  const rows = (Object.keys(PERMISSIONS) as Action[]).map((action) => {
    const cells = ROLES.map((role) => {
      if (!(PERMISSIONS[action] as readonly Role[]).includes(role)) return '';
      const scope = SCOPES[action]?.[role];
      return scope ? `✓ ${scope}` : '✓';
    });
    const limited = UNLIMITED_ONLY.has(action) ? 'refused' : '';
    return `| ${action} | ${cells.join(' | ')} | ${limited} |`;
  });
  return [header, rule, ...rows].join('\n');
}
