export const ROLES = ['admin', 'dpo', 'auditor', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Who is acting. Every service function takes one and checks it; the HTTP layer only builds it. */
export interface Principal {
  /** The token's `sub`. */
  readonly id: string;
  readonly role: Role;
  /** For `service`: the one system it acts for. */
  readonly system?: string;
  /** The token's `jti`, for logs. */
  readonly tokenId?: string;
}

/** Lethe itself, for work it does on its own behalf (loading the demo data set). */
export const LETHE_ITSELF: Principal = { id: 'lethe', role: 'admin' };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
