import type { Identifiers } from '@lethe/api';
import type { Principal } from '../../auth/principal.js';

/** One call to a system's rights client, on behalf of a request's task. */
export interface RightsClientCall {
  /** The rights request's id; clients may use it (with `taskId`) to recognise a retry. */
  readonly requestId: string;
  readonly taskId: string;
  readonly identifiers: Identifiers;
  /** Who the request is carried out for; travels in the call token's `act` claim. */
  readonly actor: Principal;
  readonly timeoutMs: number;
  /** A `pii` delete limited to these data categories (the request's); absent: every personal field. */
  readonly categories?: readonly string[];
}

/** A record a client returns for a DSAR. */
export interface ClientRecord {
  readonly dataset?: string;
  readonly pk?: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface RightsClientAnswer {
  /** Records found (get); empty for delete. */
  readonly records: readonly ClientRecord[];
  /** Records deleted or cleared (delete); 0 for get. */
  readonly deleted: number;
}

/**
 * A call that did not succeed. `retryable` says whether trying again later may help (timeouts,
 * network errors, 5xx, 429, gRPC UNAVAILABLE...) or not (the client refused the request).
 */
export class RightsClientError extends Error {
  override readonly name = 'RightsClientError';

  constructor(
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** How Lethe talks to one rights client, whatever its protocol. */
export interface RightsClientTransport {
  get(call: RightsClientCall): Promise<RightsClientAnswer>;
  /** `rows` deletes the person's records; `pii` clears their personal fields only. */
  delete(call: RightsClientCall, mode: 'rows' | 'pii'): Promise<RightsClientAnswer>;
  /** Releases connections (gRPC channels). */
  close(): void;
}
