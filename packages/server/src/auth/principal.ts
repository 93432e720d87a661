export const ROLES = ['admin', 'dpo', 'auditor', 'service'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Extra rights a token may carry beyond its role. `subject-ids`: an auditor sees real subject ids
 * instead of pseudonyms and may look a subject up by id.
 */
export const GRANTS = ['subject-ids'] as const;
export type Grant = (typeof GRANTS)[number];

/** Who is acting. Every service function takes one and checks it; the HTTP layer only builds it. */
export interface Principal {
  /** The token's `sub`. */
  readonly id: string;
  readonly role: Role;
  /** For `service`: the one system it acts for. */
  readonly system?: string;
  /**
   * Data categories the token may see (field-level least privilege); a category admits its
   * children (`user.contact` admits `user.contact.email`). Absent: every category.
   */
  readonly categories?: readonly string[];
  readonly grants?: readonly Grant[];
  /** The token's `iss`: `lethe`, or the URL of a trusted external issuer. */
  readonly issuer?: string;
  /** The token's `jti`, for logs. */
  readonly tokenId?: string;
  /** The HTTP request acting, recorded in the audit log. */
  readonly requestId?: string;
}

/** Lethe itself, for work it does on its own behalf (loading the demo data set, key rotation). */
export const LETHE_ITSELF: Principal = { id: 'lethe', role: 'admin' };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isGrant(value: unknown): value is Grant {
  return typeof value === 'string' && (GRANTS as readonly string[]).includes(value);
}

export function hasGrant(principal: Principal, grant: Grant): boolean {
  return principal.grants?.includes(grant) ?? false;
}
