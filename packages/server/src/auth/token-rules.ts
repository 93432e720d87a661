import { errors } from 'jose';
import { AppError } from '../lib/app-error.js';
import { TAXONOMY_KEY_PATTERN } from '../lib/taxonomy.js';
import { GRANTS, isGrant, type Grant } from './principal.js';

/** Token rules shared by minting and verifying (DESIGN.md §5, RFC 8725). */
export const MAX_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;
export const ALLOWED_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export const SIGNING_ALGORITHM = 'EdDSA';
export const TOKEN_TYPE = 'JWT';
/** Clock difference tolerated between issuers and this server (future `iat`, key windows). */
export const CLOCK_SKEW_SECONDS = 60;
/** A data category key, as in the systems' field declarations: `user.contact.email`. */
/** A data category in a token is a taxonomy key (`user.contact.email`). */
export const CATEGORY_PATTERN = TAXONOMY_KEY_PATTERN;

export interface TokenSettings {
  readonly issuer: string;
  readonly audience: string;
}

export const DEFAULT_TOKEN_SETTINGS: TokenSettings = { issuer: 'lethe', audience: 'lethe-api' };

/** Parses `90s`, `15m`, `1h`, `12h` into seconds; undefined when not one of those forms. */
export function parseTtl(text: string): number | undefined {
  const match = /^(\d+)(s|m|h)$/.exec(text);
  if (!match) return undefined;
  const unit = { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** Parses `30m`, `24h`, `7d` (also `s`) into milliseconds; undefined when not one of those forms. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!match) return undefined;
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit * 1000;
}

/**
 * The `categories` claim: absent (every category), or a list of category keys. Anything else is
 * refused rather than read as "no restriction".
 */
export function parseCategoriesClaim(value: unknown, claim = 'categories'): string[] | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    !value.every((item) => typeof item === 'string' && CATEGORY_PATTERN.test(item))
  ) {
    throw new AppError(
      'TOKEN_INVALID',
      `The "${claim}" claim must be a list of category keys like user.contact.`,
    );
  }
  return [...new Set(value as string[])];
}

/** The `grants` claim: absent (none), or a list of known grants. */
export function parseGrantsClaim(value: unknown, claim = 'grants'): Grant[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every(isGrant)) {
    throw new AppError('TOKEN_INVALID', `The "${claim}" claim must be a list of: ${GRANTS.join(', ')}.`);
  }
  return [...new Set(value)];
}

/** A jose or AppError failure as the 401 the client sees. */
export function toTokenError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof errors.JWTExpired) return new AppError('TOKEN_EXPIRED');
  const reason = error instanceof errors.JOSEError ? error.message : 'verification failed';
  return new AppError('TOKEN_INVALID', `The token is not valid: ${reason}.`);
}
