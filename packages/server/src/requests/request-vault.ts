import { randomBytes } from 'node:crypto';
import { MasterKey } from '../auth/master-key.js';
import { AppError } from '../lib/app-error.js';
import type { Identifiers } from '@lethe/api';
import type { Repository } from '../store/repository.js';
import type { RightsRequestRow } from './request-tables.js';

/** What a request key wraps, bound into its envelope. */
function requestKeyLabel(requestId: string): string {
  return `request-key:${requestId}`;
}

/**
 * The personal data of a request in flight (its identifiers, what was found for a DSAR) is
 * sealed under a key of the request's own: 32 random bytes, stored wrapped under the master key.
 * Destroying that one row (`RequestQueries.destroyPii`) makes every sealed value unreadable, in
 * the live database and in every backup taken after the request started.
 */
export class RequestVault {
  constructor(private readonly masterKey: MasterKey) {}

  /** Creates the request's key inside the caller's transaction and returns a sealer for it. */
  async create(repository: Repository, requestId: string): Promise<Sealer> {
    const bytes = randomBytes(32);
    await repository.requests.saveKey(requestId, this.masterKey.wrap(bytes, requestKeyLabel(requestId)));
    return new Sealer(requestId, bytes);
  }

  /**
   * The request's identifiers while it still holds them (for what runs in the transaction that
   * completes it); undefined once they are destroyed.
   */
  async identifiers(repository: Repository, request: RightsRequestRow): Promise<Identifiers | undefined> {
    if (request.identifiers_sealed === null) return undefined;
    const sealer = await this.open(repository, request.id);
    return sealer?.open<Identifiers>(request.identifiers_sealed, 'identifiers');
  }

  /** The request's sealer, or undefined once its key is destroyed. */
  async open(repository: Repository, requestId: string): Promise<Sealer | undefined> {
    const wrapped = await repository.requests.getKey(requestId);
    if (!wrapped) return undefined;
    return new Sealer(requestId, this.masterKey.unwrap(wrapped, requestKeyLabel(requestId)));
  }
}

/** Seals and opens JSON values under one request's key (AES-256-GCM envelopes, labelled per use). */
export class Sealer {
  readonly #key: MasterKey;

  constructor(
    readonly requestId: string,
    keyBytes: Uint8Array,
  ) {
    // The master key's envelope format serves here too: random IV, tag, and a label as AAD.
    this.#key = new MasterKey(keyBytes, `the key of request ${requestId}`);
  }

  seal(value: unknown, label: string): string {
    return this.#key.wrap(JSON.stringify(value), `${this.requestId}:${label}`);
  }

  open<T>(envelope: string, label: string): T {
    try {
      return JSON.parse(this.#key.unwrapText(envelope, `${this.requestId}:${label}`)) as T;
    } catch (cause) {
      throw new AppError(
        'INTERNAL',
        `A sealed value of request ${this.requestId} does not open.`,
        undefined,
        {
          cause,
        },
      );
    }
  }
}
