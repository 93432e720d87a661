import { CallOutError, type CallOut, type CallOutResponse } from './call-out.js';
import {
  RightsClientError,
  type ClientRecord,
  type RightsClientAnswer,
  type RightsClientCall,
  type RightsClientTransport,
} from './rights-client.js';

export interface HttpRightsClientOptions {
  /** The client's name in the data map; the call token's audience is `rights-client:<name>`. */
  readonly name: string;
  /** The base URL, `http(s)://host[:port][/path]`; `/get` and `/delete` are appended to its path. */
  readonly address: string;
  readonly callOut: CallOut;
}

/** How much of a client's own error text goes into a {@link RightsClientError} message. */
const MAX_CLIENT_MESSAGE_LENGTH = 300;
const NOTHING: RightsClientAnswer = { records: [], deleted: 0 };

/**
 * A rights client reached over HTTP with JSON. Every call is a `POST` carrying
 * `authorization: Bearer <call token>` (audience `rights-client:<name>`, the actor in `act`;
 * verify it with the SDK's `createCallVerifier`) and `x-request-id: <request id>`.
 *
 * - `POST {address}/get` with `{ requestId, taskId, identifiers }` answers
 *   `200 { records: [{ dataset?, pk?, fields: { ... } }] }`.
 * - `POST {address}/delete` with `{ requestId, taskId, identifiers, mode: 'rows' | 'pii' }`
 *   answers `200 { deleted: <count> }`; `rows` deletes the person's records, `pii` clears their
 *   personal fields (only those of `categories`, data category keys, when the request names
 *   them; the field is absent otherwise). It must be idempotent on `(requestId, taskId)`: Lethe retries.
 *
 * `identifiers` is Lethe's `Identifiers` object: any of `subject`, `email`, `phone`,
 * `address: { address, address2?, city?, state?, postal?, country? }`, `customKey`,
 * `customKey2`, `customKey3`; each one finds records on its own.
 *
 * Any 2xx is read as the answer. `404` with `{"error": {"code": "NOT_FOUND"}}` means "nothing about
 * this person": a success with nothing found or deleted; any other 404 (a wrong address) is a
 * refusal. `408`, `425`, `429`, `5xx`, timeouts and network errors fail the call as
 * retryable. Every other status is a refusal (not retried) whose message quotes the client's
 * `error.message`, `message` or text; so is a 2xx whose body does not follow the contract.
 * Redirects are not followed.
 *
 * @example
 * const crm = new HttpRightsClient({ name: 'crm', address: 'https://crm.internal/privacy', callOut });
 * const { records } = await crm.get({ requestId, taskId, identifiers: { email }, actor, timeoutMs: 10_000 });
 */
export class HttpRightsClient implements RightsClientTransport {
  private readonly name: string;
  private readonly audience: string;
  private readonly base: URL;
  private readonly callOut: CallOut;

  constructor(options: HttpRightsClientOptions) {
    this.name = options.name;
    this.audience = `rights-client:${options.name}`;
    this.base = baseUrl(options.name, options.address);
    this.callOut = options.callOut;
  }

  async get(call: RightsClientCall): Promise<RightsClientAnswer> {
    const response = await this.post('get', call, {});
    if (response === undefined) return NOTHING;
    return { records: this.records(response.body), deleted: 0 };
  }

  async delete(call: RightsClientCall, mode: 'rows' | 'pii'): Promise<RightsClientAnswer> {
    const response = await this.post('delete', call, {
      mode,
      ...(mode === 'pii' && call.categories !== undefined ? { categories: call.categories } : {}),
    });
    if (response === undefined) return NOTHING;
    return { records: [], deleted: this.deletedCount(response.body) };
  }

  close(): void {
    // Nothing held: each call is a fetch of its own.
  }

  /** The 2xx answer, or undefined for a 404; throws a RightsClientError for anything else. */
  private async post(
    operation: 'get' | 'delete',
    call: RightsClientCall,
    extra: Record<string, unknown>,
  ): Promise<CallOutResponse | undefined> {
    const url = endpoint(this.base, operation);
    let response: CallOutResponse;
    try {
      response = await this.callOut.call({
        url,
        audience: this.audience,
        actor: call.actor,
        method: 'POST',
        body: { requestId: call.requestId, taskId: call.taskId, identifiers: call.identifiers, ...extra },
        timeoutMs: call.timeoutMs,
        requestId: call.requestId,
      });
    } catch (error) {
      if (!(error instanceof CallOutError)) throw error;
      // A timeout or a broken connection may pass; an oversized answer will not shrink on retry.
      const retryable = error.reason !== 'response-too-large';
      throw new RightsClientError(`Rights client "${this.name}": ${error.message}`, retryable, {
        cause: error,
      });
    }
    const { status } = response;
    if (status >= 200 && status < 300) return response;
    // Only the contract's own 404 means "nothing about this person"; a bare 404 (a wrong path, a
    // framework's "Cannot POST") must not make a deletion count as done.
    if (status === 404 && isObject(response.body) && isObject(response.body['error'])) {
      if (response.body['error']['code'] === 'NOT_FOUND') return undefined;
    }
    const prefix = `Rights client "${this.name}" answered ${status} to POST ${url.pathname}`;
    if (status >= 300 && status < 400) {
      throw new RightsClientError(`${prefix}; redirects are not followed, configure the final URL.`, false);
    }
    const said = clientMessage(response.body);
    throw new RightsClientError(said === undefined ? `${prefix}.` : `${prefix}: ${said}`, isPassing(status));
  }

  private records(body: unknown): ClientRecord[] {
    if (!isObject(body) || !Array.isArray(body['records'])) {
      throw this.malformed('get', 'a JSON object with a "records" array');
    }
    return body['records'].map((record: unknown, index) => {
      if (!isObject(record) || !isObject(record['fields'])) {
        throw this.malformed('get', `records[${index}] to be an object with a "fields" object`);
      }
      const { dataset, pk, fields } = record;
      if ((dataset !== undefined && dataset !== null && typeof dataset !== 'string') || !isKey(pk)) {
        throw this.malformed('get', `records[${index}].dataset and .pk to be strings when present`);
      }
      return {
        ...(typeof dataset === 'string' ? { dataset } : {}),
        ...(pk !== undefined && pk !== null ? { pk: String(pk) } : {}),
        fields: { ...fields },
      };
    });
  }

  private deletedCount(body: unknown): number {
    const deleted = isObject(body) ? body['deleted'] : undefined;
    if (typeof deleted !== 'number' || !Number.isSafeInteger(deleted) || deleted < 0) {
      throw this.malformed('delete', 'a JSON object with "deleted", a count of records');
    }
    return deleted;
  }

  private malformed(operation: 'get' | 'delete', expected: string): RightsClientError {
    return new RightsClientError(
      `Rights client "${this.name}" answered POST /${operation} with a body that breaks the contract: expected ${expected}.`,
      false,
    );
  }
}

function baseUrl(name: string, address: string): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new RightsClientError(`Rights client "${name}": "${address}" is not a URL.`, false);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RightsClientError(`Rights client "${name}": "${address}" is not an http(s) URL.`, false);
  }
  // fetch refuses such URLs, which would otherwise look like a network error worth retrying.
  if (url.username !== '' || url.password !== '') {
    throw new RightsClientError(`Rights client "${name}": the URL must not carry credentials.`, false);
  }
  url.hash = '';
  return url;
}

/** `https://crm.internal/privacy` + `get` = `https://crm.internal/privacy/get` (the query is kept). */
function endpoint(base: URL, operation: 'get' | 'delete'): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${operation}`;
  return url;
}

/** Statuses that say "not now" rather than "no": worth a retry later. */
function isPassing(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** What the client said about its refusal: `{error:{message}}`, `{error}`, `{message}` or its text. */
function clientMessage(body: unknown): string | undefined {
  let said: unknown = body;
  if (isObject(body)) {
    const error = body['error'];
    if (isObject(error) && typeof error['message'] === 'string') said = error['message'];
    else if (typeof error === 'string') said = error;
    else if (typeof body['message'] === 'string') said = body['message'];
    else said = JSON.stringify(body);
  } else if (body !== undefined && typeof body !== 'string') {
    said = JSON.stringify(body);
  }
  if (typeof said !== 'string' || said.trim() === '') return undefined;
  const text = said.trim();
  return text.length > MAX_CLIENT_MESSAGE_LENGTH ? `${text.slice(0, MAX_CLIENT_MESSAGE_LENGTH)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isKey(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string' || typeof value === 'number';
}
