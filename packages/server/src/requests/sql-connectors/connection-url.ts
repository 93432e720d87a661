import type { ConnectorType } from '@lethe/api';
import { SqlConnectorError } from './sql-connector-error.js';

/**
 * Connection strings, one format per database:
 * - PostgreSQL: `postgres://user:password@host:5432/database` (or `postgresql://`), as `pg` reads it;
 * - MySQL / MariaDB: `mysql://user:password@host:3306/database`, as mysql2's `uri` reads it;
 * - SQLite: `sqlite:/absolute/path.db` or `sqlite:relative/path.db` (from the working directory);
 *   `sqlite:///absolute/path.db` is read as `/absolute/path.db`. The file must exist.
 */
const SCHEMES: Readonly<Record<ConnectorType, readonly string[]>> = {
  postgres: ['postgres:', 'postgresql:'],
  mysql: ['mysql:'],
  sqlite: ['sqlite:'],
};

/** Throws a non-retryable error unless `url` is in `type`'s format. */
export function checkConnectionUrl(type: ConnectorType, url: string): void {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0].toLowerCase();
  if (scheme === undefined || !SCHEMES[type].includes(scheme)) {
    throw new SqlConnectorError(
      `a ${type} connection string must start with ${SCHEMES[type].join(' or ')} (got ${scheme ?? 'no scheme'})`,
      false,
    );
  }
}

/** The file of a `sqlite:` connection string. */
export function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

/** The connection string with its password replaced by `***` (for messages). */
export function redactUrl(url: string): string {
  const secret = passwordOf(url);
  return secret === undefined ? url : url.split(secret).join('***');
}

/** `text` with every occurrence of the connection string's password (raw or decoded) replaced by `***`. */
export function scrubPassword(text: string, url: string): string {
  const secret = passwordOf(url);
  if (secret === undefined) return text;
  let scrubbed = text;
  for (const form of new Set([secret, safeDecode(secret)])) {
    if (form !== '') scrubbed = scrubbed.split(form).join('***');
  }
  return scrubbed;
}

function passwordOf(url: string): string | undefined {
  // Not `new URL`: a password with unescaped reserved characters must still be found.
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*?:([^/?#]*)@/i.exec(url);
  const secret = match?.[1];
  return secret === undefined || secret === '' ? undefined : secret;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
