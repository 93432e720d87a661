import type { ErrorBody } from '@lethe/api';

/** An answer other than 2xx, with the registry's stable code (`FORBIDDEN`, `TOKEN_EXPIRED`, …). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The token is missing, invalid or expired: only signing in again helps. */
  get needsSignIn(): boolean {
    return this.status === 401;
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Called with every 401, so the app can send the user back to the sign-in page with the reason. */
let onUnauthorized: (error: ApiError) => void = () => {};
export function whenUnauthorized(handler: (error: ApiError) => void): void {
  onUnauthorized = handler;
}

/** Calls the API with the session's token; resolves with the parsed body (or the Response for files). */
export async function callApi<T>(token: string, method: Method, path: string, body?: unknown): Promise<T> {
  const response = await sendToApi(token, method, path, body);
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** As `callApi`, for answers that are files (CSV, NDJSON, HTML packages). */
export async function downloadFromApi(token: string, path: string, accept?: string): Promise<Blob> {
  const response = await sendToApi(token, 'GET', path, undefined, accept);
  return response.blob();
}

/**
 * Calls a public route without a token (the sign-in link's exchange). Its 401 is that call's
 * answer, not the end of a session.
 */
export async function callPublicApi<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const response = await sendToApi(undefined, method, path, body);
  return (await response.json()) as T;
}

async function sendToApi(
  token: string | undefined,
  method: Method,
  path: string,
  body?: unknown,
  accept = 'application/json',
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
        accept,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'The Lethe server cannot be reached. Is it running?');
  }
  if (response.ok) return response;
  const error = await errorOf(response);
  if (error.needsSignIn && token !== undefined) onUnauthorized(error);
  throw error;
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const { error } = (await response.json()) as ErrorBody;
    return new ApiError(response.status, error.code, error.message, error.requestId);
  } catch {
    return new ApiError(response.status, 'UNEXPECTED', `The server answered ${response.status}.`);
  }
}
