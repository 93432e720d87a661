import { processEnvironment } from '../config/process-environment.js';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore, type StoreLocation } from '../store/open-store.js';
import type { Repository } from '../store/repository.js';
import type { Store } from '../store/store.js';
import {
  envelopeKeyId,
  isEnvelope,
  MASTER_KEY_BYTES,
  MasterKey,
  MasterKeyError,
  SERVER_SECRET_LABEL,
  signingKeyLabel,
} from './master-key.js';

/** The master key's file in the data directory when no variable names one; created on first start. */
export const MASTER_KEY_FILE_NAME = 'master.key';

/** Where the master key comes from, or the default file that does not exist yet. */
export type MasterKeyLocation = { readonly key: MasterKey } | { readonly missingFile: string };

/**
 * The master key, the same way for every command that opens a store (`lethe serve`,
 * `lethe token create`, `createLethe`): `LETHE_MASTER_KEY` (the base64 of 32 bytes), else
 * `LETHE_MASTER_KEY_FILE` (a file holding that), else `master.key` in the data directory. Setting
 * both variables, an empty or malformed value, or an unreadable file is a `MasterKeyError` naming
 * the variable. The default file is only reported missing here: it is created once the store is
 * known to hold nothing wrapped under another key (`openKeyedStore`).
 */
export async function findMasterKey(
  env: Readonly<Record<string, string | undefined>>,
  dataDir: string,
): Promise<MasterKeyLocation> {
  const value = env['LETHE_MASTER_KEY'];
  const file = env['LETHE_MASTER_KEY_FILE'];
  if (value !== undefined && file !== undefined) {
    throw new MasterKeyError('set LETHE_MASTER_KEY or LETHE_MASTER_KEY_FILE, not both');
  }
  if (value !== undefined) return { key: MasterKey.parse(value, 'LETHE_MASTER_KEY') };
  if (file !== undefined) {
    if (file === '') throw new MasterKeyError('LETHE_MASTER_KEY_FILE is empty; it must name a file');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new MasterKeyError(`LETHE_MASTER_KEY_FILE: cannot read ${file} (${errorCode(error)})`);
    }
    return { key: MasterKey.parse(text, `LETHE_MASTER_KEY_FILE (${file})`) };
  }
  const defaultFile = join(dataDir, MASTER_KEY_FILE_NAME);
  try {
    return { key: MasterKey.parse(await readFile(defaultFile, 'utf8'), defaultFile) };
  } catch (error) {
    if (error instanceof MasterKeyError) throw error;
    if (errorCode(error) === 'ENOENT') return { missingFile: defaultFile };
    throw new MasterKeyError(`cannot read the master key file ${defaultFile} (${errorCode(error)})`);
  }
}

/**
 * Creates the default key file, readable by its owner only (0600), atomically: the key is written
 * and synced under a temporary name, then linked to `file`, which fails if another process
 * created it first, in which case that process's key is used.
 */
async function createMasterKeyFile(file: string, dataDir: string): Promise<MasterKey> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const bytes = randomBytes(MASTER_KEY_BYTES);
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(`${bytes.toString('base64')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, file);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    return MasterKey.parse(await readFile(file, 'utf8'), file);
  } finally {
    await unlink(temporary);
  }
  const directory = await open(dataDir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return new MasterKey(bytes, file);
}

export interface KeyedStore {
  readonly store: Store;
  readonly masterKey: MasterKey;
}

export interface KeyedStoreOptions {
  /** Use this key instead of looking for one (tests, embedders). */
  readonly masterKey?: MasterKey | undefined;
  /** Where `LETHE_MASTER_KEY` and `LETHE_MASTER_KEY_FILE` are read; default the process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Opens the store (running migrations) with its master key, and makes sure the key fits before
 * anything else runs: every wrapped value must be wrapped under this key and open (else a
 * `MasterKeyError` or `EnvelopeError`, and the store is closed again). Clear values left by a
 * release before envelope encryption are wrapped here, once and idempotently (a compare-and-set
 * per row, so two processes starting together do no harm); a new store gets its installation
 * secret, wrapped, so that a wrong key is noticed from the second start on.
 */
export async function openKeyedStore(
  location: StoreLocation,
  options: KeyedStoreOptions = {},
): Promise<KeyedStore> {
  // A bad variable is reported before the store is touched (or created).
  const found = options.masterKey
    ? { key: options.masterKey }
    : await findMasterKey(options.env ?? processEnvironment(), location.dataDir);
  const store = await openStore(location);
  try {
    return { store, masterKey: await sealKeyMaterial(store, found, location.dataDir) };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** A stored secret: what it is, its stored text, and how to replace it if the text is unchanged. */
interface StoredSecret {
  readonly label: string;
  readonly value: string;
  /** The clear secret, for a value not yet wrapped; throws when it is neither clear nor wrapped. */
  clear(): string | Buffer;
  replace(repository: Repository, wrapped: string): Promise<boolean>;
}

async function readKeyMaterial(repository: Repository): Promise<StoredSecret[]> {
  const [serverSecret, signingSecrets] = await Promise.all([
    repository.meta.value('server_secret'),
    repository.signingKeys.secrets(),
  ]);
  const stored: StoredSecret[] = signingSecrets.map((row) => ({
    label: signingKeyLabel(row.kid),
    value: row.private_jwk,
    clear() {
      try {
        if (typeof JSON.parse(row.private_jwk) === 'object') return row.private_jwk;
      } catch {
        // reported below
      }
      throw unknownFormat(this.label);
    },
    replace: (repository, wrapped) => repository.signingKeys.replaceSecret(row.kid, row.private_jwk, wrapped),
  }));
  if (serverSecret !== undefined) {
    stored.push({
      label: SERVER_SECRET_LABEL,
      value: serverSecret,
      clear() {
        const bytes = Buffer.from(serverSecret, 'base64');
        if (!/^[A-Za-z0-9+/]+={0,2}$/.test(serverSecret) || bytes.length !== 32)
          throw unknownFormat(this.label);
        return bytes;
      },
      replace: (repository, wrapped) => repository.meta.replaceValue('server_secret', serverSecret, wrapped),
    });
  }
  return stored;
}

async function sealKeyMaterial(store: Store, found: MasterKeyLocation, dataDir: string): Promise<MasterKey> {
  let key = 'key' in found ? found.key : undefined;
  // Normally one pass, two when clear values are wrapped; more only if another process keeps
  // writing clear values (an older release on the same PostgreSQL).
  for (let pass = 0; ; pass += 1) {
    const stored = await readKeyMaterial(store.repository);
    const wrapped = stored.filter((secret) => isEnvelope(secret.value));
    // Envelopes of a version this release does not know fail below, when they are opened.
    const storeKeyIds = [...new Set(wrapped.flatMap((secret) => envelopeKeyId(secret.value) ?? []))];
    if (!key && 'missingFile' in found) {
      if (storeKeyIds.length > 0) {
        throw new MasterKeyError(
          `this store's key material is encrypted under master key ${storeKeyIds.join(', ')}, but no master ` +
            `key is configured and ${found.missingFile} does not exist: set LETHE_MASTER_KEY or ` +
            'LETHE_MASTER_KEY_FILE to the key it was encrypted with, or restore that file',
        );
      }
      key = await createMasterKeyFile(found.missingFile, dataDir);
    }
    if (!key) throw new Error('unreachable: no master key');
    const masterKey = key;
    const foreign = storeKeyIds.filter((id) => id !== masterKey.id);
    if (foreign.length > 0) {
      throw new MasterKeyError(
        `the master key does not match the one this store was encrypted with (master key ${masterKey.id} from ` +
          `${masterKey.source}; the store's key material is wrapped under ${foreign.join(', ')})`,
      );
    }
    // Every envelope must open now, not as a 500 on the first request that needs it.
    for (const secret of wrapped) masterKey.unwrap(secret.value, secret.label);

    const clear = stored.filter((secret) => !isEnvelope(secret.value));
    const hasServerSecret = stored.some((secret) => secret.label === SERVER_SECRET_LABEL);
    if (clear.length === 0 && hasServerSecret) return masterKey;
    if (pass >= 3) {
      throw new MasterKeyError(
        'clear key material keeps appearing in the store while Lethe encrypts it: is an older release ' +
          'of Lethe still running on it? Stop it and start again',
      );
    }
    const plain = clear.map((secret) => ({ secret, text: secret.clear() }));
    await store.transaction(async (repository) => {
      for (const { secret, text } of plain)
        await secret.replace(repository, masterKey.wrap(text, secret.label));
      if (!hasServerSecret) {
        await repository.meta.valueOrInsert(
          'server_secret',
          masterKey.wrap(randomBytes(MASTER_KEY_BYTES), SERVER_SECRET_LABEL),
        );
      }
    });
  }
}

function unknownFormat(label: string): MasterKeyError {
  return new MasterKeyError(
    `the stored ${label} is neither an envelope nor a clear value this release knows`,
  );
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
}
