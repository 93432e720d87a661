import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { audit } from '../audit/audit-trail.js';
import type { Repository } from '../store/repository.js';
import type { SigningKeyRow } from './auth-tables.js';
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
/**
 * A scheduled rotation publishes the next key this long before it signs, so that verifiers that
 * cache the JWKS (the SDK refetches on an unknown kid at most every 30 s, and the JWKS is served
 * with max-age 60) already hold it when the first token carries its kid. Half the rotation
 * interval when that is shorter, so that a key is never pending for longer than it signs.
 */
export const PUBLISH_AHEAD_MS = 60 * 60 * 1000;

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
  /** Epoch milliseconds when it starts signing; later than `createdAt` for a scheduled rotation. */
  readonly activatesAt: number;
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

/** Neither retired nor revoked: the signing key, older ones not yet retired, or a pending key. */
function isLive(row: SigningKeyRow): boolean {
  return row.retired_at === null && row.revoked_at === null;
}

function activeFrom(row: SigningKeyRow): number {
  return row.activates_at ?? row.created_at;
}

/**
 * The key that signs at `now`: the newest live key whose activation has come (`rows` newest
 * first). A pending key never signs; an older live key stops signing when a newer one activates,
 * before `rotateIfDue` gets to record its retirement.
 */
function signingRow(rows: readonly SigningKeyRow[], now: number): SigningKeyRow | undefined {
  return rows.find((row) => isLive(row) && activeFrom(row) <= now);
}

function pendingRows(rows: readonly SigningKeyRow[], now: number): SigningKeyRow[] {
  return rows.filter((row) => isLive(row) && activeFrom(row) > now);
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
 * Life of a key: `PUBLISH_AHEAD_MS` before the signing key reaches the rotation interval (counted
 * from its activation; checked every minute by the server, see `rotateIfDue`), the next key is
 * created as a pending key: stored, published in the JWKS and accepted for verification (it has
 * signed nothing, so that is harmless), but not signing until its `activates_at`. From then on it
 * signs and the old key is retired as of that instant; the next check records that and deletes the
 * old private half from `signing_key_secrets` (a retired key never signs again, so nothing needs
 * it). A manual rotation activates its key at once and deletes any pending key. The retired key's
 * public half keeps verifying for `RETIRED_KEY_GRACE_MS` (12 h + 60 s) and is published in the
 * JWKS until then; afterwards it only stays in `signing_keys` to check old signed audit checkpoints. A revoked key (suspected leak) verifies nothing from the moment it is revoked.
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
   * The key that signs now: the newest activated live one (never a pending one), created on first
   * use. Reads the store on every call (so a rotation or revocation by another process is seen at
   * once). Not to be called inside a `store.transaction` (on SQLite the store has one connection):
   * get the key first.
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
   * The scheduled check (every minute, and at start): publishes the next key as a pending key when
   * the signing key is due within the lead time (audited as Lethe itself), records the retirement
   * of keys a newly activated key replaced, and destroys private halves of keys that no longer sign.
   * Cheap when there is nothing to do: it only takes the lock when the store says there is.
   */
  async rotateIfDue(): Promise<RotationResult | undefined> {
    const ahead = Math.min(PUBLISH_AHEAD_MS, this.rotationIntervalMs / 2);
    const due = (rows: SigningKeyRow[], secrets: Set<string>) => {
      const now = this.now();
      const signing = signingRow(rows, now);
      // Live keys older than the signing key were superseded when it activated.
      const superseded = signing
        ? rows.filter((row) => isLive(row) && row.kid !== signing.kid && activeFrom(row) <= now)
        : [];
      const dueAt = signing ? activeFrom(signing) + this.rotationIntervalMs : Infinity;
      return {
        signing,
        superseded,
        dueAt,
        publish: signing !== undefined && pendingRows(rows, now).length === 0 && now >= dueAt - ahead,
        destroy: rows
          .filter((row) => (!isLive(row) || superseded.includes(row)) && secrets.has(row.kid))
          .map((row) => row.kid),
      };
    };
    const read = async (repository: Repository) => {
      const [rows, kids] = await Promise.all([
        repository.signingKeys.list(),
        repository.signingKeys.secretKids(),
      ]);
      return due(rows, new Set(kids));
    };
    const outside = await read(this.store.repository);
    if (!outside.publish && outside.superseded.length === 0 && outside.destroy.length === 0) return undefined;
    const result = await this.store.transaction(
      async (repository) => {
        // Re-read under the lock: another node may have done it meanwhile.
        const inside = await read(repository);
        // Retired as of the instant the signing key took over, not when this check noticed.
        for (const row of inside.superseded) {
          await repository.signingKeys.retire(row.kid, activeFrom(inside.signing!));
        }
        await repository.signingKeys.deleteSecrets(inside.destroy);
        if (!inside.publish) return undefined;
        // Always a full lead, even when the check runs late (once a minute, or after the server
        // was down): verifiers refusing fresh tokens would be worse than a key signing a little
        // past its interval.
        const activatesAt = Math.max(inside.dueAt, this.now() + ahead);
        return this.rotateIn(repository, LETHE_ITSELF, { revokePrevious: false, activatesAt });
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
      (repository) =>
        this.rotateIn(repository, principal, { revokePrevious: options.revokePrevious ?? false }),
      { exclusiveCatalog: true },
    );
    await this.refresh(true);
    return result;
  }

  /**
   * Inside the caller's locked transaction: new key (pending until `activatesAt` when given,
   * otherwise signing at once), all audited.
   */
  private async rotateIn(
    repository: Repository,
    principal: Principal,
    options: { revokePrevious: boolean; activatesAt?: number },
  ): Promise<RotationResult> {
    const previous = signingRow(await repository.signingKeys.list(), this.now());
    const created = await this.createKey(repository, options.activatesAt);
    const activatesAt = activeFrom(created.row);
    await audit(repository, principal, 'keys.rotate', `key:${created.row.kid}`);
    const result = { kid: created.row.kid, createdAt: created.row.created_at, activatesAt };
    if (!previous) return result;
    if (options.revokePrevious) {
      await repository.signingKeys.revoke(previous.kid, created.row.created_at);
      await audit(repository, principal, 'keys.revoke', `key:${previous.kid}`);
    }
    return {
      ...result,
      previous: {
        kid: previous.kid,
        verifiesUntil: options.revokePrevious ? created.row.created_at : activatesAt + RETIRED_KEY_GRACE_MS,
        revoked: options.revokePrevious,
      },
    };
  }

  /**
   * Creates a key. Pending when `activatesAt` is given: the others are left alone, and `rotateIfDue`
   * retires them once it activates. Otherwise it signs at once: every other live key is retired
   * now (private halves destroyed), and a pending key is deleted outright; it never signed, and
   * after a suspected leak of the store it must not take over. Call inside a transaction holding
   * the catalog lock.
   */
  private async createKey(
    repository: Repository,
    activatesAt?: number,
  ): Promise<{ row: SigningKeyRow; signing: SigningKey }> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
    const now = this.now();
    const row: SigningKeyRow = {
      kid: randomUUID(),
      algorithm: SIGNING_ALGORITHM,
      public_jwk: JSON.stringify(await exportJWK(publicKey)),
      created_at: now,
      activates_at: activatesAt ?? null,
      retired_at: null,
      revoked_at: null,
    };
    if (activatesAt === undefined) {
      const existing = await repository.signingKeys.list();
      for (const pending of pendingRows(existing, now)) await repository.signingKeys.delete(pending.kid);
      const retiring = existing.filter((key) => isLive(key) && activeFrom(key) <= now).map((key) => key.kid);
      for (const kid of retiring) await repository.signingKeys.retire(kid, now);
      await repository.signingKeys.deleteSecrets(retiring);
    }
    const wrapped = this.masterKey.wrap(
      JSON.stringify(await exportJWK(privateKey)),
      signingKeyLabel(row.kid),
    );
    await repository.signingKeys.insert(row, wrapped);
    return { row, signing: { kid: row.kid, privateKey } };
  }

  /** The key signing now with its private half, or undefined. */
  private async activeKey(repository: Repository): Promise<SigningKey | undefined> {
    const row = signingRow(await repository.signingKeys.list(), this.now());
    if (!row) return undefined;
    if (this.signing?.kid === row.kid) return this.signing;
    const secret = await repository.signingKeys.secret(row.kid);
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
    const rows = await this.store.repository.signingKeys.list();
    // A pending key deleted by a manual rotation (on any node) must stop verifying here too.
    const stored = new Set(rows.map((row) => row.kid));
    for (const kid of this.cache.keys()) if (!stored.has(kid)) this.cache.delete(kid);
    for (const row of rows) {
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
export function keyRotationFromEnv(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const text = env['LETHE_KEY_ROTATION'];
  if (text === undefined || text === '') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < MIN_ROTATION_INTERVAL_MS) {
    throw new Error(`LETHE_KEY_ROTATION must be a duration of at least 1m like 12h or 7d, got "${text}"`);
  }
  return ms;
}
