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
