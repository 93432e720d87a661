import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Repository } from '../store/repository.js';
import { SIGNING_ALGORITHM } from './token-rules.js';

const RELOAD_INTERVAL_MS = 1_000;

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
}

/**
 * The server's own signing keys live in the store, so that `lethe token create` on the same data
 * directory or database mints tokens the server accepts. Rotation arrives with the security
 * work; today the newest key signs and every stored key verifies.
 */
export class SigningKeys {
  private readonly publicKeys = new Map<string, CryptoKey>();
  private reloadedAt = -Infinity;
  private reloading: Promise<void> | undefined;

  constructor(private readonly repository: Repository) {}

  /** The newest key, created on first use. */
  async current(): Promise<SigningKey> {
    const [newest] = await this.repository.listSigningKeys();
    if (newest) {
      const privateKey = (await importJWK(
        JSON.parse(newest.private_jwk) as JWK,
        SIGNING_ALGORITHM,
      )) as CryptoKey;
      return { kid: newest.kid, privateKey };
    }
    return this.create();
  }

  /**
   * Public key by `kid`; reloads from the store when the kid is unknown (a key created by another
   * process). Requests that arrive during a reload wait for it; a new reload starts at most once a
   * second, so tokens with made-up kids cannot flood the store.
   */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    const cached = this.publicKeys.get(kid);
    if (cached) return cached;
    if (!this.reloading && Date.now() - this.reloadedAt >= RELOAD_INTERVAL_MS) {
      this.reloadedAt = Date.now();
      this.reloading = this.reload().finally(() => {
        this.reloading = undefined;
      });
    }
    await this.reloading;
    return this.publicKeys.get(kid);
  }

  private async reload(): Promise<void> {
    for (const row of await this.repository.listSigningKeys()) {
      if (!this.publicKeys.has(row.kid)) {
        const key = (await importJWK(JSON.parse(row.public_jwk) as JWK, row.algorithm)) as CryptoKey;
        this.publicKeys.set(row.kid, key);
      }
    }
  }

  private async create(): Promise<SigningKey> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
    const kid = randomUUID();
    await this.repository.insertSigningKey({
      kid,
      algorithm: SIGNING_ALGORITHM,
      public_jwk: JSON.stringify(await exportJWK(publicKey)),
      private_jwk: JSON.stringify(await exportJWK(privateKey)),
      created_at: Date.now(),
    });
    return { kid, privateKey };
  }
}
