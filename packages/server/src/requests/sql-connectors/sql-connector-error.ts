/**
 * A SQL connector run that failed: the connection, a statement, or the config. `retryable` says
 * whether running the request again later may succeed (connection refused or lost, timeouts,
 * deadlocks, serialisation failures) or not (missing table or column, no permission, a bad
 * config). The message never contains the connection string's password; the driver's error is not
 * attached as `cause` for the same reason, its code is kept in `code`.
 */
export class SqlConnectorError extends Error {
  override readonly name = 'SqlConnectorError';

  constructor(
    message: string,
    readonly retryable: boolean,
    /** The driver's error code (`40P01`, `ER_NO_SUCH_TABLE`, `SQLITE_BUSY`, `ECONNREFUSED`...), if any. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Node's network error codes worth a retry. */
export const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** The `code` property of a driver error, as text. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
}

/** A foreign key refused a delete: PostgreSQL, MySQL/MariaDB, SQLite. */
const FOREIGN_KEY_CODES: ReadonlySet<string> = new Set([
  '23503',
  'ER_ROW_IS_REFERENCED_2',
  'ER_ROW_IS_REFERENCED',
  'SQLITE_CONSTRAINT_FOREIGNKEY',
]);

/** A delete a foreign key refused: say which table, and why that is expected to fail closed. */
export function refusedDelete(connector: string, table: string, error: unknown): unknown {
  const code = errorCode(error);
  if (code === undefined || !FOREIGN_KEY_CODES.has(code)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new SqlConnectorError(
    `connector ${connector}: deleting from ${table} was refused by a foreign key (${detail}): ` +
      `a row this request does not erase (of a table the connector does not list, a shared row, or a ` +
      `row kept by its table's erase: never or erase: fields) still references one of the rows; ` +
      `nothing was changed`,
    false,
    code,
  );
}
