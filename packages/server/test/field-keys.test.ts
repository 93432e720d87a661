import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openKeyedStore } from '../src/auth/key-material.js';
import { MasterKey } from '../src/auth/master-key.js';
import type { Principal } from '../src/auth/principal.js';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { AppError } from '../src/lib/app-error.js';
import {
  decryptField,
  encryptField,
  FieldDecryptError,
  keyIdOf,
  unwrapFieldKey,
  type FieldKey,
} from '../src/streams/field-crypto.js';
import { FieldKeyService } from '../src/streams/field-key-service.js';
import type { Store } from '../src/store/store.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';

const available = await availableBackends();
const admin = LETHE_ITSELF;
const HOUR = 3_600_000;
const TTL = 1_000;
const T0 = Date.UTC(2025, 0, 1, 10, 30);
const CONTEXT = { contract: 'clicks', attribute: 'email' };

describe.each(ALL_BACKENDS)('field keys: $name', (backend) => {
  const missing = !available.includes(backend);
  let store: Store;
  let masterKey: MasterKey;
  let dispose: () => Promise<void>;
  /** The clock of both services: the cache TTL runs on it. */
  let clock: number;
  let keys: FieldKeyService;

  const service = () =>
    new FieldKeyService(store, masterKey, { rotationMs: HOUR, cacheTtlMs: TTL, now: () => clock });

  beforeEach(async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    const location = await backend.create({ migrated: true });
    ({ store, masterKey } = await openKeyedStore(location, { masterKey: MasterKey.generate() }));
    dispose = async () => {
      await store.close();
      await location.dispose();
    };
    clock = T0;
    keys = service();
  });
  afterEach(async () => {
    if (!missing) await dispose();
  });

  const keyRows = () => store.repository.db.selectFrom('field_keys').selectAll().execute();
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => (error instanceof AppError ? [error.code, error.status] : error),
    );

  it('gives the same key within a period and a new one in the next', async () => {
    const first = await keys.keyFor('clicks', 'link-1', 's-1', T0);
    const again = await keys.keyFor('clicks', 'link-1', 's-1', T0 + 20 * 60_000);
    expect(again.id).toBe(first.id);
    expect(again.material.equals(first.material)).toBe(true);
    expect(first.expiresAt).toBe(Date.UTC(2025, 0, 1, 11));

    const next = await keys.keyFor('clicks', 'link-1', 's-1', T0 + HOUR);
    expect(next.id).not.toBe(first.id);
    expect(next.material.equals(first.material)).toBe(false);
    expect(next.expiresAt).toBe(Date.UTC(2025, 0, 1, 12));

    const otherLink = await keys.keyFor('clicks', 'link-2', 's-1', T0);
    const otherContract = await keys.keyFor('orders', 'link-1', 's-1', T0);
    expect(new Set([first.id, next.id, otherLink.id, otherContract.id]).size).toBe(4);
    // A late event gets its own period's key, whatever the time it arrives.
    clock = T0 + 5 * HOUR;
    expect((await service().keyFor('clicks', 'link-1', 's-1', T0)).id).toBe(first.id);
  });

  it('keeps the rotation period the store was keyed with: another one is refused while keys exist', async () => {
    const daily = new FieldKeyService(store, masterKey, { now: () => clock });
    await keys.adoptRotation(); // hourly, recorded on first use
    await keys.adoptRotation(); // the same again: nothing to do
    expect(await store.repository.meta.value('stream_key_rotation_ms')).toBe(String(HOUR));
    // No key yet: another period may still be chosen, and is recorded.
    await daily.adoptRotation();
    await keys.adoptRotation();
    await keys.keyFor('clicks', 'session-1', 'c-1', T0);
    await expect(daily.adoptRotation()).rejects.toThrow(/rotate every 60 min.*asks for 1440 min/);
    expect(await store.repository.meta.value('stream_key_rotation_ms')).toBe(String(HOUR));
  });

  it('makes one key when 8 callers ask for the same period at once', async () => {
    const nodes = Array.from({ length: 8 }, () => service());
    const got = await Promise.all(nodes.map((node) => node.keyFor('clicks', 'link-1', 's-1', T0)));
    expect(new Set(got.map((key) => key.id)).size).toBe(1);
    expect(new Set(got.map((key) => key.material.toString('hex'))).size).toBe(1);
    expect(await keyRows()).toHaveLength(1);
  });

  it('makes the keys of a batch at once: one per key link and period, shredded periods answered', async () => {
    const shredded = await keys.keyFor('clicks', 'link-gone', 's-9', T0);
    await keys.shredKey(admin, shredded.id, 'test');
    const requests = [
      { contract: 'clicks', keyLink: 'link-1', subject: 's-1', eventAt: T0 },
      { contract: 'clicks', keyLink: 'link-2', subject: 's-2', eventAt: T0 },
      { contract: 'clicks', keyLink: 'link-1', subject: 's-1', eventAt: T0 + 60_000 },
      { contract: 'clicks', keyLink: 'link-1', subject: 's-1', eventAt: T0 + HOUR },
      { contract: 'clicks', keyLink: 'link-gone', subject: 's-9', eventAt: T0 },
      { contract: 'orders', keyLink: 'link-1', subject: 's-1', eventAt: T0 },
    ];
    // Four nodes ask for overlapping batches at once; all settle on the same keys.
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, node) =>
        service().keysFor(node % 2 ? [...requests].reverse() : requests),
      ),
    );
    const ids = answers.map((answer, node) =>
      (node % 2 ? [...answer].reverse() : answer).map((key) => (key === 'shredded' ? key : key.id)),
    );
    for (const other of ids.slice(1)) expect(other).toEqual(ids[0]);
    const [link1, link2, link1Again, link1Later, gone, otherContract] = ids[0]!;
    expect(link1Again).toBe(link1);
    expect(gone).toBe('shredded');
    expect(new Set([link1, link2, link1Later, otherContract]).size).toBe(4);
    expect((await keyRows()).map((row) => row.id).sort()).toEqual(
      [link1, link2, link1Later, otherContract].sort(),
    );
    // And the single-key form answers the same.
    expect((await keys.keyFor('clicks', 'link-2', 's-2', T0)).id).toBe(link2);
  });

  it('keeps keys at rest only wrapped by the master key', async () => {
    const key = await keys.keyFor('clicks', 'link-1', 's-1', T0);
    const [row] = await keyRows();
    expect(row?.id).toBe(key.id);
    for (const encoding of ['base64', 'base64url', 'hex'] as const) {
      expect(row?.wrapped).not.toContain(key.material.toString(encoding));
    }
    expect(unwrapFieldKey(masterKey, key.id, row!.wrapped).equals(key.material)).toBe(true);
    // Another master key cannot open it.
    expect(() => unwrapFieldKey(MasterKey.generate(), key.id, row!.wrapped)).toThrow();
  });

  it('shreds a subject: no key material left, the ciphertext cannot be opened, the period refused', async () => {
    const key = await keys.keyFor('clicks', 'link-1', 's-1', T0);
    const laterKey = await keys.keyFor('clicks', 'link-1', 's-1', T0 + HOUR);
    const othersKey = await keys.keyFor('clicks', 'link-9', 's-9', T0);
    const ciphertext = encryptField(key, CONTEXT, 'ann@example.com');
    expect(keyIdOf(ciphertext)).toBe(key.id);
    expect(decryptField(key, CONTEXT, ciphertext)).toBe('ann@example.com');

    // Another node has the key in its cache.
    const otherNode = service();
    expect(await otherNode.keyById(key.id)).toMatchObject({ id: key.id });

    expect(await keys.shredSubject(admin, 's-1', 'erasure request r-1')).toBe(2);

    // The shredding node forgets at once; another node within its cache TTL, and not after.
    expect(await keys.keyById(key.id)).toBe('shredded');
    expect(await keys.keyById(laterKey.id)).toBe('shredded');
    expect(await otherNode.keyById(key.id)).toMatchObject({ id: key.id });
    clock += TTL;
    expect(await otherNode.keyById(key.id)).toBe('shredded');
    expect(await keys.keyById('no-such-key')).toBeUndefined();
    expect(await keys.keyById(othersKey.id)).toMatchObject({ id: othersKey.id });

    // No key material anywhere: the key rows are gone, the tombstones hold none.
    const rows = await keyRows();
    expect(rows.map((row) => row.id)).toEqual([othersKey.id]);
    const tombstones = await store.repository.db.selectFrom('field_key_tombstones').selectAll().execute();
    expect(tombstones.map((row) => row.id).sort()).toEqual([key.id, laterKey.id].sort());
    expect(Object.keys(tombstones[0]!).sort()).toEqual(
      ['contract', 'id', 'key_link', 'period_end', 'period_start', 'reason', 'shredded_at', 'subject'].sort(),
    );
    const tombstone = await store.repository.fieldKeys.getTombstone(key.id);
    expect(tombstone).toMatchObject({
      contract: 'clicks',
      key_link: 'link-1',
      subject: 's-1',
      period_start: Date.UTC(2025, 0, 1, 10),
      period_end: Date.UTC(2025, 0, 1, 11),
      shredded_at: clock - TTL,
      reason: 'erasure request r-1',
    });
    const stored = JSON.stringify([rows, tombstones]);
    for (const shredded of [key, laterKey]) {
      for (const encoding of ['base64', 'base64url', 'hex'] as const) {
        expect(stored).not.toContain(shredded.material.toString(encoding));
      }
    }
    // With no key to be had, decryption is impossible: any other material fails to authenticate.
    const guess: FieldKey = { ...key, material: othersKey.material };
    expect(() => decryptField(guess, CONTEXT, ciphertext)).toThrow(FieldDecryptError);

    // The shredded periods are never given a key again; a later one is.
    expect(await refusal(keys.keyFor('clicks', 'link-1', 's-1', T0))).toEqual(['KEY_SHREDDED', 409]);
    expect(await refusal(service().keyFor('clicks', 'link-1', 's-1', T0 + HOUR + 1))).toEqual([
      'KEY_SHREDDED',
      409,
    ]);
    const fresh = await keys.keyFor('clicks', 'link-1', 's-1', T0 + 2 * HOUR);
    expect([key.id, laterKey.id]).not.toContain(fresh.id);
    expect((await keyRows()).map((row) => row.id).sort()).toEqual([othersKey.id, fresh.id].sort());

    // The shred is in the audit log.
    const entries = await store.repository.audit.entries(0, 1_000);
    expect(entries.filter((entry) => entry.action === 'keys.shred')).toMatchObject([
      { actor: 'admin:lethe', target: 'subject:s-1 keys=2' },
    ]);
  });

  it('shreds one key by id, audited, and refuses roles that may not erase', async () => {
    const key = await keys.keyFor('clicks', 'link-1', 's-1', T0);
    const kept = await keys.keyFor('clicks', 'link-1', 's-1', T0 + HOUR);
    const auditor: Principal = { id: 'ann', role: 'auditor' };
    expect(await refusal(keys.shredKey(auditor, key.id, 'x'))).toEqual(['FORBIDDEN', 403]);
    expect(await refusal(keys.shredSubject(auditor, 's-1', 'x'))).toEqual(['FORBIDDEN', 403]);
    expect(await keys.keyById(key.id)).toMatchObject({ id: key.id });

    expect(await keys.shredKey(admin, key.id, 'leaked')).toBe(1);
    expect(await keys.shredKey(admin, key.id, 'again')).toBe(0);
    expect(await keys.keyById(key.id)).toBe('shredded');
    expect(await keys.keyById(kept.id)).toMatchObject({ id: kept.id });
    expect(await refusal(keys.keyFor('clicks', 'link-1', 's-1', T0))).toEqual(['KEY_SHREDDED', 409]);
    const entries = await store.repository.audit.entries(0, 1_000);
    expect(entries.filter((entry) => entry.action === 'keys.shred').map((entry) => entry.target)).toEqual([
      'subject:s-1 keys=1',
    ]);
  });

  it('says what it saw when a key it made cannot be read back, not only "another rotation period"', async () => {
    await keys.keyFor('clicks', 'session-1', 'c-1', T0); // the hour from 10:00
    // Two-hour periods from the epoch: 10:00–12:00 starts where that hour does, so its slot is taken.
    const twoHourly = new FieldKeyService(store, masterKey, { rotationMs: 2 * HOUR, now: () => clock });
    const error = await refusal(twoHourly.keyFor('clicks', 'session-1', 'c-1', T0));
    expect(String(error)).toMatch(
      /period starting 2025-01-01T10:00:00\.000Z was made but cannot be read back: .*another period end .*LETHE_STREAM_KEY_ROTATION.*, or the store did not keep the key-link value as given/,
    );
  });
});
