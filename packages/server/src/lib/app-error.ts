import { ERRORS, type ErrorCode } from '@lethe/api';

/** An error with a stable code from the registry; the API turns it into `{error: {code, message}}`. */
export class AppError extends Error {
  readonly status: number;
  /** Sent as `Retry-After` (a 503 that is worth retrying soon, such as an ingest backlog). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    readonly details?: unknown,
    options?: ErrorOptions & { readonly retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.status = ERRORS[code].status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}
