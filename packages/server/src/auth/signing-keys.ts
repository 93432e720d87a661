import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { audit } from '../services/audit-trail.js';
import type { Repository } from '../store/repository.js';
import type { SigningKeyRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { signingKeyLabel, type MasterKey } from './master-key.js';
import { authorize } from './permissions.js';
import { LETHE_ITSELF, type Principal } from './principal.js';
import {
  CLOCK_SKEW_SECONDS,
  MAX_TOKEN_LIFETIME_SECONDS,
  parseDuration,
  SIGNING_ALGORITHM,
} from './token-rules.js';

/** A new key signs every 24 h unless configured otherwise (`LETHE_KEY_ROTATION`). */
export const DEFAULT_ROTATION_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** Rotation may not be configured more often than this: the check runs once a minute. */
export const MIN_ROTATION_INTERVAL_MS = 60 * 1000;
/**
 * How long a retired key keeps verifying: the longest token it can have signed, plus clock skew.
 * After that no valid token can carry its kid.
 */
export const RETIRED_KEY_GRACE_MS = (MAX_TOKEN_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) * 1000;

/** Unknown kids trigger a reload from the store at most this often (real time, not the clock). */
const RELOAD_INTERVAL_MS = 1_000;

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
}

export interface SigningKeysOptions {
  /** Epoch milliseconds; tests move it. Default `Date.now`. */
  readonly now?: () => number;
  /** Age at which the signing key is replaced; default 24 h. */
  readonly rotationIntervalMs?: number;
}

export interface RotationResult {
  readonly kid: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** The key that signed before; absent when there was none. */
  readonly previous?: {
    readonly kid: string;
    /** Epoch milliseconds after which tokens it signed are refused (at once when revoked). */
    readonly verifiesUntil: number;
    readonly revoked: boolean;
  };
}

/** A public key as published at `/.well-known/jwks.json`. */
export type PublishedJwk = JWK & { kty: string; kid: string; alg: string; use: 'sig' };

/** When tokens signed by the key stop verifying; undefined while it is the signing key. */
export function verifiesUntil(row: SigningKeyRow): number | undefined {
  if (row.revoked_at !== null) return row.revoked_at;
  if (row.retired_at !== null) return row.retired_at + RETIRED_KEY_GRACE_MS;
  return undefined;
}

export function verifiesAt(row: SigningKeyRow, now: number): boolean {
  const until = verifiesUntil(row);
  return until === undefined || (row.revoked_at === null && now <= until);
}

function isActive(row: SigningKeyRow): boolean {
  return row.retired_at === null && row.revoked_at === null;
}

interface CachedKey {
  row: SigningKeyRow;
  readonly key: CryptoKey;
}

/**
 * The server's own signing keys. They live in the store, so that `lethe token create` on the same
 * data directory or database mints tokens the server accepts, and several processes on one
 * PostgreSQL share them.
 *
 * Life of a key: the newest unretired key signs. When it is older than the rotation interval
 * (checked every minute by the server, see `rotateIfDue`), a new key is created and the old one
 * retired; at that moment its private half is deleted from `signing_key_secrets` (a retired key
 * never signs again, so nothing needs it). Its public half keeps verifying for
 * `RETIRED_KEY_GRACE_MS` (12 h + 60 s) and is published in the JWKS until then; afterwards it only
 * stays in `signing_keys` to check old signed audit checkpoints (`publicKey`). A revoked key
 * (suspected leak) verifies nothing from the moment it is revoked.
 *
 * Private halves are stored wrapped under the master key (`master-key.ts`), bound to their kid,
 * and unwrapped only when a key is loaded to sign.
 */
export class SigningKeys {
  readonly now: () => number;
  readonly rotationIntervalMs: number;
  private readonly cache = new Map<string, CachedKey>();
  private signing: SigningKey | undefined;
  private reloadedAt = -Infinity;
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly masterKey: MasterKey,
    options: SigningKeysOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.rotationIntervalMs = options.rotationIntervalMs ?? DEFAULT_ROTATION_INTERVAL_MS;
    if (!Number.isFinite(this.rotationIntervalMs) || this.rotationIntervalMs < MIN_ROTATION_INTERVAL_MS) {
      throw new Error(`the key rotation interval must be at least ${MIN_ROTATION_INTERVAL_MS / 1000} s`);
    }
  }

  /**
   * The key that signs now: the newest unretired one, created on first use. Reads the store on
   * every call (so a rotation or revocation by another process is seen at once). Not to be called
   * inside a `store.transaction` (on SQLite the store has one connection): get the key first.
   */
  async current(): Promise<SigningKey> {
    const found = await this.activeKey(this.store.repository);
    if (found) return found;
    // None yet (or it was rotated away between two reads): create one, re-reading under the lock
    // so that two processes starting at once agree on one key.
    const key = await this.store.transaction(
      async (repository) => (await this.activeKey(repository)) ?? (await this.createKey(repository)).signing,
      { exclusiveCatalog: true },
    );
    await this.refresh(true);
    return key;
  }

  /**
   * Public key by `kid`, if tokens it signed verify now. Reloads from the store when the kid is
   * unknown (a key created by another process); on a shared store (PostgreSQL) also at most once a
   * second, so that another node's rotation or revocation applies here within a second. Requests
   * that arrive during a reload wait for it; a new reload starts at most once a second, so tokens
   * with made-up kids cannot flood the store.
   */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    if (this.store.capabilities.shared || !this.cache.has(kid)) await this.refresh();
    const cached = this.cache.get(kid);
    return cached && verifiesAt(cached.row, this.now()) ? cached.key : undefined;
  }

  /**
   * Any stored public key by `kid`, also retired, revoked or long past its window: for checking
   * signatures made in the past (audit checkpoints), never for accepting tokens.
   */
  async publicKey(kid: string): Promise<{ key: CryptoKey; row: SigningKeyRow } | undefined> {
    if (!this.cache.has(kid)) await this.refresh();
    const cached = this.cache.get(kid);
    return cached ? { key: cached.key, row: cached.row } : undefined;
  }

  /** The JWKS: every key whose tokens verify now (RFC 7517). */
  async jwks(): Promise<{ keys: PublishedJwk[] }> {
    await this.refresh();
    const now = this.now();
    const keys: PublishedJwk[] = [];
    for (const { row } of this.cache.values()) {
      if (!verifiesAt(row, now)) continue;
      const jwk = JSON.parse(row.public_jwk) as JWK & { kty: string };
      keys.push({ ...jwk, kid: row.kid, alg: row.algorithm, use: 'sig' });
    }
    return { keys };
  }

  /**
   * The scheduled check (every minute, and at start): rotates when the signing key is older than
   * the interval (audited as Lethe itself) and destroys private halves of keys that no longer sign.
   * Cheap when there is nothing to do: it only takes the lock when the store says there is.
   */
  async rotateIfDue(): Promise<RotationResult | undefined> {
    const due = (rows: SigningKeyRow[], secrets: Set<string>) => {
      const signing = rows.find(isActive);
      return {
        rotate: signing !== undefined && this.now() - signing.created_at >= this.rotationIntervalMs,
        destroy: rows.filter((row) => !isActive(row) && secrets.has(row.kid)).map((row) => row.kid),
      };
    };
    const read = async (repository: Repository) => {
      const [rows, kids] = await Promise.all([
        repository.listSigningKeys(),
        repository.signingKeySecretKids(),
      ]);
      return due(rows, new Set(kids));
    };
    const outside = await read(this.store.repository);
    if (!outside.rotate && outside.destroy.length === 0) return undefined;
    const result = await this.store.transaction(
      async (repository) => {
        const inside = await read(repository);
        await repository.deleteSigningKeySecrets(inside.destroy);
        if (!inside.rotate) return undefined;
        return this.rotateIn(repository, LETHE_ITSELF, false);
      },
      { exclusiveCatalog: true },
    );
    await this.refresh(true);
    return result;
  }

  /**
   * Rotates now (`POST /v1/keys/rotate`). With `revokePrevious`, the key that signed until now
   * stops verifying at once: for a suspected leak, at the price of every token it signed.
   */
  async rotate(principal: Principal, options: { revokePrevious?: boolean } = {}): Promise<RotationResult> {
    authorize(principal, 'keys:rotate');
    const result = await this.store.transaction(
      (repository) => this.rotateIn(repository, principal, options.revokePrevious ?? false),
      { exclusiveCatalog: true },
    );
    await this.refresh(true);
    return result;
  }

  /** Inside the caller's locked transaction: new key, previous ones retired, all audited. */
  private async rotateIn(
    repository: Repository,
    principal: Principal,
    revokePrevious: boolean,
  ): Promise<RotationResult> {
    const previous = (await repository.listSigningKeys()).find(isActive);
    const created = await this.createKey(repository);
    await audit(repository, principal, 'keys.rotate', `key:${created.row.kid}`);
    if (!previous) return { kid: created.row.kid, createdAt: created.row.created_at };
    if (revokePrevious) {
      await repository.revokeSigningKey(previous.kid, created.row.created_at);
      await audit(repository, principal, 'keys.revoke', `key:${previous.kid}`);
    }
    return {
      kid: created.row.kid,
      createdAt: created.row.created_at,
      previous: {
        kid: previous.kid,
        verifiesUntil: revokePrevious
          ? created.row.created_at
          : created.row.created_at + RETIRED_KEY_GRACE_MS,
        revoked: revokePrevious,
      },
    };
  }

  /**
   * Creates the new signing key and retires every other unretired one, destroying their private
   * halves. Call inside a transaction holding the catalog lock.
   */
  private async createKey(repository: Repository): Promise<{ row: SigningKeyRow; signing: SigningKey }> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
    const now = this.now();
    const row: SigningKeyRow = {
      kid: randomUUID(),
      algorithm: SIGNING_ALGORITHM,
      public_jwk: JSON.stringify(await exportJWK(publicKey)),
      created_at: now,
      retired_at: null,
      revoked_at: null,
    };
    const retiring = (await repository.listSigningKeys()).filter(isActive).map((key) => key.kid);
    for (const kid of retiring) await repository.retireSigningKey(kid, now);
    await repository.deleteSigningKeySecrets(retiring);
    const wrapped = this.masterKey.wrap(
      JSON.stringify(await exportJWK(privateKey)),
      signingKeyLabel(row.kid),
    );
    await repository.insertSigningKey(row, wrapped);
    return { row, signing: { kid: row.kid, privateKey } };
  }

  /** The newest unretired key with its private half, or undefined. */
  private async activeKey(repository: Repository): Promise<SigningKey | undefined> {
    const row = (await repository.listSigningKeys()).find(isActive);
    if (!row) return undefined;
    if (this.signing?.kid === row.kid) return this.signing;
    const secret = await repository.signingKeySecret(row.kid);
    if (secret === undefined) return undefined;
    const jwk = JSON.parse(this.masterKey.unwrapText(secret, signingKeyLabel(row.kid))) as JWK;
    const privateKey = (await importJWK(jwk, row.algorithm)) as CryptoKey;
    this.signing = { kid: row.kid, privateKey };
    return this.signing;
  }

  /**
   * Reloads the public halves from the store, at most once a second unless `force`d (after this
   * instance changed them). Concurrent callers share one reload.
   */
  private async refresh(force = false): Promise<void> {
    if (force) {
      await this.reloading;
      this.reloadedAt = performance.now();
      await this.reload();
      return;
    }
    if (!this.reloading && performance.now() - this.reloadedAt >= RELOAD_INTERVAL_MS) {
      this.reloadedAt = performance.now();
      this.reloading = this.reload().finally(() => {
        this.reloading = undefined;
      });
    }
    await this.reloading;
  }

  private async reload(): Promise<void> {
    for (const row of await this.store.repository.listSigningKeys()) {
      const cached = this.cache.get(row.kid);
      if (cached) {
        cached.row = row;
      } else {
        const key = (await importJWK(JSON.parse(row.public_jwk) as JWK, row.algorithm)) as CryptoKey;
        this.cache.set(row.kid, { row, key });
      }
    }
  }
}

/** `LETHE_KEY_ROTATION` (`24h`, `7d`, `30m`) in milliseconds; undefined when unset. */
export function keyRotationFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const text = env['LETHE_KEY_ROTATION'];
  if (text === undefined || text === '') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < MIN_ROTATION_INTERVAL_MS) {
    throw new Error(`LETHE_KEY_ROTATION must be a duration of at least 1m like 12h or 7d, got "${text}"`);
  }
  return ms;
}
