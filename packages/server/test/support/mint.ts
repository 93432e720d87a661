import { openKeyedStore } from '../../src/auth/key-material.js';
import type { Role } from '../../src/auth/principal.js';
import { SigningKeys } from '../../src/auth/signing-keys.js';
import { DEFAULT_TOKEN_SETTINGS } from '../../src/auth/token-rules.js';
import { Tokens } from '../../src/auth/tokens.js';
import type { StoreLocation } from '../../src/store/open-store.js';

/**
 * Mints a token with the signing keys stored at `location`, as `lethe token create` does, but
 * in-process (a CLI start costs a second or two). Do it before a server starts on a SQLite dir.
 * The master key is found as the CLI started by `lethe-process.ts` finds it, which sees no
 * `LETHE_*` variable of the developer's: `master.key` in the data directory.
 */
export async function mintToken(location: StoreLocation, role: Role = 'admin'): Promise<string> {
  const { store, masterKey } = await openKeyedStore(location, { env: {} });
  try {
    const tokens = new Tokens(new SigningKeys(store, masterKey), DEFAULT_TOKEN_SETTINGS);
    return (await tokens.mint({ subject: 'e2e-test', role, ttlSeconds: 600 })).token;
  } finally {
    await store.close();
  }
}
