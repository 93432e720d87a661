import { ERRORS, type ErrorCode } from '@lethe/api';

/** An error with a stable code from the registry; the API turns it into `{error: {code, message}}`. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AppError';
    this.status = ERRORS[code].status;
  }
}
