/** Token rules shared by minting and verifying (DESIGN.md §5, RFC 8725). */
export const MAX_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;
export const ALLOWED_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export const SIGNING_ALGORITHM = 'EdDSA';
export const TOKEN_TYPE = 'JWT';

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
