import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Repository } from '../store/repository.js';

/**
 * One random secret per installation, kept in the store, from which purpose-bound keys are
 * derived (HKDF): subject pseudonyms for auditors, and sealed cursors. Losing it only changes
 * pseudonyms and invalidates open cursors.
 */
export class ServerSecrets {
  private root: Promise<Buffer> | undefined;

  constructor(private readonly repository: Repository) {}

  async key(purpose: 'pseudonyms' | 'cursors'): Promise<Buffer> {
    this.root ??= this.repository
      .metaValueOrInsert('server_secret', randomBytes(32).toString('base64'))
      .then((value) => Buffer.from(value, 'base64'))
      .catch((error: unknown) => {
        this.root = undefined;
        throw error;
      });
    return Buffer.from(hkdfSync('sha256', await this.root, Buffer.alloc(0), `lethe ${purpose}`, 32));
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
