import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { SERVER_SECRET_LABEL, type MasterKey } from './master-key.js';
import type { Repository } from '../store/repository.js';

/**
 * One random secret per installation, kept in the store (meta `server_secret`) wrapped under the
 * master key, from which purpose-bound keys are derived (HKDF): subject pseudonyms for auditors,
 * keyed hashes of rights-request identifiers (the suppression list), sealed cursors and the hmac
 * masks of SQL connectors, and the signature of the dashboard's OIDC sign-in attempts. Losing it
 * changes pseudonyms, invalidates open cursors and blinds the suppression list (back it up).
 */
export class ServerSecrets {
  private root: Promise<Buffer> | undefined;
  /** Derived once per purpose: reads ask for them on every request. */
  private readonly derived = new Map<string, Buffer>();

  constructor(
    private readonly repository: Repository,
    private readonly masterKey: MasterKey,
  ) {}

  async key(
    purpose: 'pseudonyms' | 'cursors' | 'identifiers' | 'masking' | 'oidc-attempts',
  ): Promise<Buffer> {
    // Normally created and checked when the store is opened (`openKeyedStore`); created here too
    // so that the class works on any store.
    this.root ??= this.repository.meta
      .valueOrInsert('server_secret', this.masterKey.wrap(randomBytes(32), SERVER_SECRET_LABEL))
      .then((value) => this.masterKey.unwrap(value, SERVER_SECRET_LABEL))
      .catch((error: unknown) => {
        this.root = undefined;
        throw error;
      });
    const root = await this.root;
    let key = this.derived.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), `lethe ${purpose}`, 32));
      this.derived.set(purpose, key);
    }
    return key;
  }

  /**
   * Maps a subject id to a stable pseudonym (`~` and 16 hex digits of an HMAC): the same subject
   * always gets the same pseudonym, so an auditor can count and correlate without seeing ids.
   */
  async pseudonymizer(): Promise<(subject: string) => string> {
    const key = await this.key('pseudonyms');
    return (subject) => `~${createHmac('sha256', key).update(subject).digest('hex').slice(0, 16)}`;
  }
}
