import { HttpTransport } from './http-transport.js';

/** Returns a bearer token; called before every request, so it may refresh short-lived tokens. */
export type TokenProvider = () => string | Promise<string>;

export interface LetheClientOptions {
  /** Base URL of the server, e.g. `http://localhost:7420`; a path prefix is kept. */
  url: string;
  token: string | TokenProvider;
  /** Defaults to the global fetch; inject one for proxies, tests or instrumentation. */
  fetch?: typeof fetch;
  /**
   * How long the server may stay silent before the request fails with `NETWORK_ERROR`: until
   * the whole answer for ordinary calls, between chunks for streams. Default 30 000 ms.
   */
  timeoutMs?: number;
}

/** Per-call options. */
export interface RequestOptions {
  signal?: AbortSignal;
}

/** The `{"items": [...]}` shape of list answers (the api package has only the schema factory). */
export interface ListResult<T> {
  items: T[];
}

/**
 * What every part of the client shares: the transport. The client is one flat class for its users;
 * its methods live in a file per part (`webhooks-client.ts`, `requests-client.ts`, `client.ts`), chained by inheritance.
 */
export abstract class ClientBase {
  protected readonly transport: HttpTransport;

  constructor(options: LetheClientOptions) {
    this.transport = new HttpTransport(options);
  }
}
