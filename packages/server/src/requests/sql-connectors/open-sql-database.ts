import type { ConnectorType } from '@lethe/api';
import type { Kysely } from 'kysely';
import { checkConnectionUrl, redactUrl, scrubPassword } from './connection-url.js';
import { mysqlAdapter } from './mysql-adapter.js';
import { postgresAdapter } from './postgres-adapter.js';
import { SqlConnectorError, errorCode } from './sql-connector-error.js';
import type { SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';
import { sqliteAdapter } from './sqlite-adapter.js';

const ADAPTERS: Readonly<Record<ConnectorType, SqlDialectAdapter>> = {
  postgres: postgresAdapter,
  mysql: mysqlAdapter,
  sqlite: sqliteAdapter,
};

export function dialectAdapter(type: ConnectorType): SqlDialectAdapter {
  return ADAPTERS[type];
}

export interface SqlDatabase {
  readonly adapter: SqlDialectAdapter;
  /** Holds at most one connection. */
  readonly db: Kysely<UntypedDatabase>;
  /** The driver error as a SqlConnectorError: retryable or not, the password scrubbed. */
  toError(error: unknown, doing: string): SqlConnectorError;
  close(): Promise<void>;
}

export interface OpenSqlDatabaseOptions {
  readonly readOnly?: boolean;
  /** Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** SQLite: how long to wait for a locked database; default 10 s. */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens a connection to one database for one run: the connector does not pool across runs, so
 * `close()` it when done (a run holds one connection for one transaction, then lets it go).
 * Nothing connects until the first statement, so a wrong host shows up there, as a
 * SqlConnectorError.
 */
export async function openSqlDatabase(
  type: ConnectorType,
  url: string,
  options: OpenSqlDatabaseOptions = {},
): Promise<SqlDatabase> {
  const adapter = dialectAdapter(type);
  const toError = (error: unknown, doing: string): SqlConnectorError => {
    if (error instanceof SqlConnectorError) return error;
    const detail = error instanceof Error ? error.message : String(error);
    const code = errorCode(error);
    return new SqlConnectorError(
      scrubPassword(
        `${doing} on ${type} ${redactUrl(url)} failed: ${detail}${code === undefined ? '' : ` (${code})`}`,
        url,
      ),
      adapter.isRetryable(error),
      code,
    );
  };
  checkConnectionUrl(type, url);
  let db: Kysely<UntypedDatabase>;
  try {
    db = await adapter.open(url, {
      readOnly: options.readOnly ?? false,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      busyTimeoutMs: options.busyTimeoutMs ?? 10_000,
    });
  } catch (error) {
    throw toError(error, 'connecting');
  }
  return { adapter, db, toError, close: () => db.destroy() };
}
