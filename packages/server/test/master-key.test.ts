import { createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { findMasterKey, MASTER_KEY_FILE_NAME, openKeyedStore } from '../src/auth/key-material.js';
import {
  EnvelopeError,
  MasterKey,
  MasterKeyError,
  SERVER_SECRET_LABEL,
  signingKeyLabel,
} from '../src/auth/master-key.js';
import { SigningKeys } from '../src/auth/signing-keys.js';
import { DEFAULT_TOKEN_SETTINGS } from '../src/auth/token-rules.js';
import { createLethe, type Lethe } from '../src/server.js';
import { openStore, SQLITE_FILE_NAME } from '../src/store/open-store.js';
import type { Database } from '../src/store/schema.js';
import { ALL_BACKENDS, availableBackends, SQLITE_BACKEND } from './support/backends.js';
import { api, killAllServers, runLethe, startServer } from './support/lethe-process.js';

/**
 * Lethe's key material at rest (docs/security.md, "Key material at rest"): the private halves of
 * the signing keys and the installation secret are stored wrapped under a master key, on both
 * backends, through the real store and the built CLI.
 */

const available = await availableBackends();

/** Every table, to look for a secret in any column of any row. */
const TABLES: (keyof Database)[] = [
  'meta',
  'policies',
  'policy_versions',
  'systems',
  'datasets',
  'fields',
  'event_ids',
  'usages',
  'field_expiries',
  'subject_expiries',
  'erasures',
  'signing_keys',
  'signing_key_secrets',
  'audit_log',
  'audit_head',
  'audit_checkpoints',
];

type Location = Awaited<ReturnType<(typeof ALL_BACKENDS)[number]['create']>>;

function keyFile(location: Location): string {
  return join(location.dataDir, MASTER_KEY_FILE_NAME);
}

/** The data directory's master key, read as an operator would. */
function dataDirKey(location: Location): MasterKey {
  return MasterKey.parse(readFileSync(keyFile(location), 'utf8'), keyFile(location));
}

/** `DATABASE_URL` for the CLI on this location (none for SQLite). */
function cliEnv(location: Location, more: Record<string, string> = {}): Record<string, string | undefined> {
  return { DATABASE_URL: location.databaseUrl, ...more };
}

/** Flips one bit in the ciphertext of an envelope. */
function tamper(envelope: string): string {
  const parts = envelope.split('.');
  const ciphertext = Buffer.from(parts[4]!, 'base64url');
  ciphertext[0]! ^= 1;
  parts[4] = ciphertext.toString('base64url');
  return parts.join('.');
}

/** The pseudonym of `subject` under a clear installation secret, as docs/security.md states it. */
function pseudonym(serverSecret: Buffer, subject: string): string {
  const key = Buffer.from(hkdfSync('sha256', serverSecret, Buffer.alloc(0), 'lethe pseudonyms', 32));
  return `~${createHmac('sha256', key).update(subject).digest('hex').slice(0, 16)}`;
}

async function storedSecrets(location: Location) {
  const store = await openStore(location);
  try {
    const db = store.repository.db;
    return {
      signing: await db.selectFrom('signing_key_secrets').selectAll().orderBy('kid').execute(),
      serverSecret: (await store.repository.meta.value('server_secret'))!,
    };
  } finally {
    await store.close();
  }
}

async function status(lethe: Lethe, token: string): Promise<number> {
  const response = await lethe.app.inject({
    method: 'GET',
    url: '/v1/policies',
    headers: { authorization: `Bearer ${token}` },
  });
  return response.statusCode;
}

function kidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
}

afterAll(killAllServers);

describe.each(ALL_BACKENDS)('key material at rest: $name', { timeout: 90_000 }, (backend) => {
  const missing = !available.includes(backend);
  const disposals: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const dispose of disposals.splice(0).reverse()) await dispose();
  });

  async function location(context: { skip: (note: string) => void }): Promise<Location> {
    if (missing) context.skip('PostgreSQL is not reachable here (see the warning above)');
    const created = await backend.create();
    disposals.push(() => created.dispose());
    return created;
  }

  it('stores no private key and no installation secret in clear', async (context) => {
    const where = await location(context);
    const lethe = await createLethe({ ...where, rateLimit: false });
    let d = '';
    let secret: Buffer = Buffer.alloc(0);
    try {
      const { token } = await lethe.tokens.mint({ subject: 'test', role: 'admin', ttlSeconds: 600 });
      const db = lethe.services.store.repository.db;
      const secrets = await db.selectFrom('signing_key_secrets').selectAll().execute();
      expect(secrets).toHaveLength(1);
      const [row] = secrets;
      expect(row!.kid).toBe(kidOf(token));
      expect(row!.private_jwk).toMatch(/^v1\./);
      expect(row!.private_jwk).not.toContain('"d"');
      const stored = (await lethe.services.store.repository.meta.value('server_secret'))!;
      expect(stored).toMatch(/^v1\./);

      // The envelopes open with the data directory's master.key to the real key material.
      const masterKey = dataDirKey(where);
      const jwk = JSON.parse(masterKey.unwrapText(row!.private_jwk, signingKeyLabel(row!.kid))) as JWK;
      const publicRow = await db.selectFrom('signing_keys').selectAll().executeTakeFirstOrThrow();
      expect(jwk.x).toBe((JSON.parse(publicRow.public_jwk) as JWK).x);
      d = jwk.d!;
      expect(d).toMatch(/^[\w-]{43}$/);
      secret = masterKey.unwrap(stored, SERVER_SECRET_LABEL);
      expect(secret).toHaveLength(32);
      expect((await lethe.services.secrets.pseudonymizer())('u-1')).toBe(pseudonym(secret, 'u-1'));

      // Not in any column of any table, in any encoding the code uses.
      const needles = [d, secret.toString('base64'), secret.toString('base64url'), secret.toString('hex')];
      // SQLite keeps the event ids in the usage journal's file (its bytes are checked below).
      for (const table of TABLES.filter((t) => backend.name !== 'sqlite' || t !== 'event_ids')) {
        const text = JSON.stringify(await db.selectFrom(table).selectAll().execute());
        for (const needle of needles) expect(text, `table ${table}`).not.toContain(needle);
      }
    } finally {
      await lethe.close();
    }
    // On SQLite, not in the database file's bytes either.
    if (backend.name === 'sqlite') {
      const journal = SQLITE_FILE_NAME.replace(/\.db$/, '.journal.db');
      for (const name of [SQLITE_FILE_NAME, `${SQLITE_FILE_NAME}-wal`, journal, `${journal}-wal`]) {
        const file = join(where.dataDir, name);
        if (!existsSync(file)) continue;
        const bytes = readFileSync(file);
        expect(bytes.includes(d)).toBe(false);
        expect(bytes.includes(secret)).toBe(false);
        expect(bytes.includes(secret.toString('base64'))).toBe(false);
      }
    }
    // The master key was created on first start, for its owner's eyes only.
    expect(statSync(keyFile(where)).mode & 0o777).toBe(0o600);
  });

  it('a token from `lethe token create` is accepted by a server on the same data dir', async (context) => {
    const where = await location(context);
    await (await createLethe(where)).close(); // a first `lethe serve` creates the store
    const minted = await runLethe(
      ['token', 'create', '--role', 'admin', '--data-dir', where.dataDir],
      cliEnv(where),
    );
    expect(minted.code, minted.stderr).toBe(0);
    expect(existsSync(keyFile(where))).toBe(true);
    const server = await startServer({ dataDir: where.dataDir, databaseUrl: where.databaseUrl });
    try {
      expect((await api(server.url, minted.stdout.trim(), 'GET', '/v1/policies')).status).toBe(200);
    } finally {
      await server.stop();
    }
    // The same key given by either variable works too.
    const encoded = readFileSync(keyFile(where), 'utf8').trim();
    const variables: Record<string, string>[] = [
      { LETHE_MASTER_KEY: encoded },
      { LETHE_MASTER_KEY_FILE: keyFile(where) },
    ];
    for (const variable of variables) {
      const again = await runLethe(
        ['token', 'create', '--role', 'auditor', '--data-dir', where.dataDir],
        cliEnv(where, variable),
      );
      expect(again.code, again.stderr).toBe(0);
      expect(kidOf(again.stdout.trim())).toBe(kidOf(minted.stdout.trim()));
    }
    // `lethe audit verify` reads public keys only: it needs no master key (and makes none).
    renameSync(keyFile(where), `${keyFile(where)}.away`);
    const verified = await runLethe(['audit', 'verify', '--data-dir', where.dataDir], cliEnv(where));
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^audit chain intact: \d+ entries/);
    expect(existsSync(keyFile(where))).toBe(false);
  });

  it('refuses to start with a master key that does not match the store', async (context) => {
    const where = await location(context);
    await (await createLethe(where)).close();
    const wrong = randomBytes(32).toString('base64');
    for (const command of [
      ['token', 'create', '--role', 'admin', '--data-dir', where.dataDir],
      ['serve', '--port', '0', '--data-dir', where.dataDir],
    ]) {
      const result = await runLethe(command, cliEnv(where, { LETHE_MASTER_KEY: wrong }), 30_000);
      expect(result.code, result.stderr).toBe(1);
      // Messages name the command as it was called: `lethe token create: …`, `lethe serve: …`.
      const name = command
        .slice(
          0,
          command.findIndex((word) => word.startsWith('-')),
        )
        .join(' ');
      expect(result.stderr).toContain(
        `lethe ${name}: the master key does not match the one this store was encrypted with`,
      );
      expect(result.stderr).toContain('from LETHE_MASTER_KEY');
      expect(result.stderr + result.stdout).not.toContain(wrong);
    }
    const other = MasterKey.generate();
    await expect(createLethe({ ...where, masterKey: other })).rejects.toThrow(MasterKeyError);
    await expect(createLethe({ ...where, masterKey: other })).rejects.toThrow(
      /the master key does not match the one this store was encrypted with/,
    );
    // Without its key file the store does not start either, and no new key is made for it.
    renameSync(keyFile(where), `${keyFile(where)}.away`);
    await expect(openKeyedStore(where, { env: {} })).rejects.toThrow(
      /encrypted under master key [\w-]+, but no master key is configured/,
    );
    expect(existsSync(keyFile(where))).toBe(false);
    // With the right key it still works: nothing was changed by the refused starts.
    renameSync(`${keyFile(where)}.away`, keyFile(where));
    const lethe = await createLethe(where);
    await lethe.close();
  });

  it('wraps the clear key material of a store from the previous release on first open', async (context) => {
    const where = await location(context);
    // What the previous release wrote: migrations, then the key material in clear.
    const store = await openStore(where);
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const kid = randomUUID();
    const privateJwk = JSON.stringify(await exportJWK(privateKey));
    const clearSecret = randomBytes(32).toString('base64');
    await store.repository.signingKeys.insert(
      {
        kid,
        algorithm: 'EdDSA',
        public_jwk: JSON.stringify(await exportJWK(publicKey)),
        created_at: Date.now(),
        activates_at: null,
        retired_at: null,
        revoked_at: null,
      },
      privateJwk,
    );
    await store.repository.meta.valueOrInsert('server_secret', clearSecret);
    await store.close();
    const oldToken = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
      .setIssuer(DEFAULT_TOKEN_SETTINGS.issuer)
      .setAudience(DEFAULT_TOKEN_SETTINGS.audience)
      .setSubject('before-the-upgrade')
      .setIssuedAt()
      .setExpirationTime('10m')
      .setJti(randomUUID())
      .sign(privateKey);

    const lethe = await createLethe({ ...where, rateLimit: false });
    try {
      expect(await status(lethe, oldToken)).toBe(200);
      const { token } = await lethe.tokens.mint({ subject: 'after', role: 'admin', ttlSeconds: 600 });
      expect(kidOf(token)).toBe(kid); // the same key still signs
      expect(await status(lethe, token)).toBe(200);
      const pseudonymize = await lethe.services.secrets.pseudonymizer();
      expect(pseudonymize('u-1001')).toBe(pseudonym(Buffer.from(clearSecret, 'base64'), 'u-1001'));
    } finally {
      await lethe.close();
    }
    const wrapped = await storedSecrets(where);
    const masterKey = dataDirKey(where);
    expect(wrapped.signing.map((row) => row.kid)).toEqual([kid]);
    expect(wrapped.signing[0]!.private_jwk).toMatch(/^v1\./);
    expect(masterKey.unwrapText(wrapped.signing[0]!.private_jwk, signingKeyLabel(kid))).toBe(privateJwk);
    expect(wrapped.serverSecret).toMatch(/^v1\./);
    expect(masterKey.unwrap(wrapped.serverSecret, SERVER_SECRET_LABEL).toString('base64')).toBe(clearSecret);

    // Idempotent: the next open finds everything wrapped and changes nothing.
    await (await createLethe(where)).close();
    expect(await storedSecrets(where)).toEqual(wrapped);
  });

  it('detects a wrapped value moved to another row', async (context) => {
    const where = await location(context);
    const lethe = await createLethe({ ...where, rateLimit: false });
    const masterKey = dataDirKey(where);
    let kid = '';
    try {
      kid = kidOf((await lethe.tokens.mint({ subject: 'test', role: 'admin', ttlSeconds: 600 })).token);
      // While running: the signing key's row now holds the (valid) envelope of the server secret.
      const db = lethe.services.store.repository.db;
      const serverSecret = (await lethe.services.store.repository.meta.value('server_secret'))!;
      const privateHalf = (await lethe.services.store.repository.signingKeys.secret(kid))!;
      await db
        .updateTable('signing_key_secrets')
        .set({ private_jwk: serverSecret })
        .where('kid', '=', kid)
        .execute();
      const fresh = new SigningKeys(lethe.services.store, masterKey);
      await expect(fresh.current()).rejects.toThrow(EnvelopeError);
      await expect(fresh.current()).rejects.toThrow(
        `the stored signing-key:${kid} does not decrypt under the master key: it was changed, or moved from another row`,
      );
      // …and the server secret's row the signing key's: both swapped.
      await db.updateTable('meta').set({ value: privateHalf }).where('key', '=', 'server_secret').execute();
    } finally {
      await lethe.close();
    }
    await expect(createLethe(where)).rejects.toThrow(
      `the stored signing-key:${kid} does not decrypt under the master key: it was changed, or moved from another row`,
    );
  });

  it('detects a changed envelope at start', async (context) => {
    const where = await location(context);
    await (await createLethe(where)).close();
    const store = await openStore(where);
    const stored = (await store.repository.meta.value('server_secret'))!;
    await store.repository.meta.replaceValue('server_secret', stored, tamper(stored));
    await store.close();
    await expect(createLethe(where)).rejects.toThrow(
      'the stored server-secret does not decrypt under the master key: it was changed, or moved from another row',
    );
  });
});

describe('where the master key comes from', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lethe-master-key-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const encoded = randomBytes(32).toString('base64');
  const expected = MasterKey.parse(encoded, 'x').id;

  it('LETHE_MASTER_KEY, else LETHE_MASTER_KEY_FILE, else master.key in the data directory', async () => {
    const file = join(scratch, 'key-file');
    writeFileSync(file, `${encoded}\n`, { mode: 0o600 });
    const fromVariable = await findMasterKey({ LETHE_MASTER_KEY: encoded }, scratch);
    expect('key' in fromVariable && fromVariable.key.id).toBe(expected);
    expect('key' in fromVariable && fromVariable.key.source).toBe('LETHE_MASTER_KEY');
    const fromFile = await findMasterKey({ LETHE_MASTER_KEY_FILE: file }, scratch);
    expect('key' in fromFile && fromFile.key.id).toBe(expected);
    expect(await findMasterKey({}, scratch)).toEqual({ missingFile: join(scratch, MASTER_KEY_FILE_NAME) });
  });

  it('names the variable when its value is unusable', async () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [
        { LETHE_MASTER_KEY: encoded, LETHE_MASTER_KEY_FILE: '/x' },
        /set LETHE_MASTER_KEY or LETHE_MASTER_KEY_FILE, not both/,
      ],
      [{ LETHE_MASTER_KEY: '' }, /LETHE_MASTER_KEY is empty/],
      [{ LETHE_MASTER_KEY: randomBytes(16).toString('base64') }, /LETHE_MASTER_KEY holds 16 bytes, not 32/],
      [{ LETHE_MASTER_KEY_FILE: '' }, /LETHE_MASTER_KEY_FILE is empty/],
      [
        { LETHE_MASTER_KEY_FILE: join(scratch, 'absent') },
        /LETHE_MASTER_KEY_FILE: cannot read .*absent \(ENOENT\)/,
      ],
    ];
    for (const [env, message] of cases) {
      await expect(findMasterKey(env, scratch)).rejects.toThrow(message);
    }
    const bad = join(scratch, 'bad-key');
    writeFileSync(bad, 'not a key');
    await expect(findMasterKey({ LETHE_MASTER_KEY_FILE: bad }, scratch)).rejects.toThrow(
      `LETHE_MASTER_KEY_FILE (${bad}) is not base64`,
    );
  });

  it('a bad value stops the CLI before it touches the store, exit code 1', async () => {
    const where = await SQLITE_BACKEND.create();
    try {
      const result = await runLethe(['token', 'create', '--role', 'admin', '--data-dir', where.dataDir], {
        LETHE_MASTER_KEY: 'too-short',
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('lethe token create: LETHE_MASTER_KEY holds');
      expect(existsSync(join(where.dataDir, SQLITE_FILE_NAME))).toBe(false);
      expect(existsSync(join(where.dataDir, MASTER_KEY_FILE_NAME))).toBe(false);
    } finally {
      await where.dispose();
    }
  });
});
