import type { JWTPayload } from 'jose';
import { isRole, ROLES, type Principal, type Role } from './principal.js';
import { parseCategoriesClaim, parseGrantsClaim } from './token-rules.js';

export const DEFAULT_ROLE_CLAIM = 'lethe_role';
export const DEFAULT_SYSTEM_CLAIM = 'lethe_system';
export const DEFAULT_CATEGORIES_CLAIM = 'lethe_categories';
export const DEFAULT_GRANTS_CLAIM = 'lethe_grants';

/** Which claims of an identity provider's token say what Lethe may let its bearer do. */
export interface ClaimMappingConfig {
  /** Claim holding the role (a string, or an array such as `groups`); default `lethe_role`. */
  readonly roleClaim?: string;
  /**
   * Claim value → role, e.g. `{ 'privacy-admins': 'admin', 'privacy-office': 'dpo' }`. Without a
   * map, values must be role names.
   */
  readonly roleMap?: Readonly<Record<string, Role>>;
  /** Claim naming a service token's system; default `lethe_system`. */
  readonly systemClaim?: string;
  /** Claim listing the data categories the token may see; default `lethe_categories`. */
  readonly categoriesClaim?: string;
  /** Claim listing grants such as `subject-ids`; default `lethe_grants`. */
  readonly grantsClaim?: string;
}

/**
 * Why a verified token's claims give no principal: `no-role` when the role claim names no role
 * Lethe knows (or several, without a map), `claims` when a claim has the wrong shape. Callers turn
 * it into their own answer (an API token is `TOKEN_INVALID`, a dashboard sign-in `OIDC_NO_ROLE`).
 */
export class ClaimMappingError extends Error {
  constructor(
    readonly reason: 'no-role' | 'claims',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads the principal out of a verified token of an external issuer, shared by the API's external
 * issuer (`ExternalIssuer`) and the dashboard's sign-in through the same provider.
 *
 * Roles. The role claim may hold a string or an array (e.g. group names).
 * - Without a map, the values that are role names count; they must name exactly one role (an array
 *   holding `admin` and `auditor` is refused as ambiguous rather than guessed). Other array
 *   entries (unrelated groups) are ignored; a string must be a role name.
 * - With a map, only mapped values count (role names themselves are not accepted unless mapped).
 *   When several values map to different roles, the first role in `ROLES` order wins (admin, dpo,
 *   auditor, service): the map is the operator's explicit statement that membership of each group
 *   grants that role, so the union of grants is intended, and a person in both the admin and the
 *   DPO group is an admin.
 */
export class ClaimMapping {
  readonly roleClaim: string;
  private readonly roleMap: ReadonlyMap<string, Role> | undefined;
  private readonly systemClaim: string;
  private readonly categoriesClaim: string;
  private readonly grantsClaim: string;

  constructor(config: ClaimMappingConfig) {
    this.roleClaim = config.roleClaim ?? DEFAULT_ROLE_CLAIM;
    this.systemClaim = config.systemClaim ?? DEFAULT_SYSTEM_CLAIM;
    this.categoriesClaim = config.categoriesClaim ?? DEFAULT_CATEGORIES_CLAIM;
    this.grantsClaim = config.grantsClaim ?? DEFAULT_GRANTS_CLAIM;
    if (config.roleMap) {
      for (const [value, role] of Object.entries(config.roleMap)) {
        if (!isRole(role)) throw new Error(`role map entry "${value}" names unknown role "${String(role)}"`);
      }
      this.roleMap = new Map(Object.entries(config.roleMap));
    }
  }

  /** The principal a verified token of `issuer` describes; throws a `ClaimMappingError`. */
  principalOf(payload: JWTPayload, issuer: string): Principal {
    const role = this.roleOf(payload[this.roleClaim]);
    const system = payload[this.systemClaim];
    if (system !== undefined && typeof system !== 'string') {
      throw new ClaimMappingError('claims', `The "${this.systemClaim}" claim must be a string.`);
    }
    if (role === 'service' && system === undefined) {
      throw new ClaimMappingError('claims', `A service token must name its system ("${this.systemClaim}").`);
    }
    let categories: string[] | undefined;
    let grants: ReturnType<typeof parseGrantsClaim>;
    try {
      categories = parseCategoriesClaim(payload[this.categoriesClaim], this.categoriesClaim);
      grants = parseGrantsClaim(payload[this.grantsClaim], this.grantsClaim);
    } catch (error) {
      throw new ClaimMappingError('claims', error instanceof Error ? error.message : String(error));
    }
    return {
      id: payload.sub as string,
      role,
      issuer,
      ...(system !== undefined ? { system } : {}),
      ...(categories ? { categories } : {}),
      ...(grants ? { grants } : {}),
      ...(payload.jti ? { tokenId: payload.jti } : {}),
    };
  }

  private roleOf(claim: unknown): Role {
    const values = typeof claim === 'string' ? [claim] : claim;
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) {
      throw new ClaimMappingError(
        'no-role',
        `The token carries no "${this.roleClaim}" claim Lethe can read.`,
      );
    }
    const roles = new Set<Role>();
    for (const value of values) {
      const role = this.roleMap ? this.roleMap.get(value) : isRole(value) ? value : undefined;
      if (role) roles.add(role);
    }
    if (roles.size === 0) {
      throw new ClaimMappingError('no-role', `The "${this.roleClaim}" claim names no role Lethe knows.`);
    }
    if (roles.size > 1 && !this.roleMap) {
      throw new ClaimMappingError('no-role', `The "${this.roleClaim}" claim names several roles.`);
    }
    return ROLES.find((role) => roles.has(role))!;
  }
}
