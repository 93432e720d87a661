import { createLethe, type Lethe, type LetheOptions } from '../../src/server.js';
import { SQLITE_BACKEND } from './backends.js';

/**
 * Lethe instances on real SQLite whose clock the tests move, for the token tests (signing keys,
 * claims, external issuers). A test file runs `closeStarted` after each test.
 */

export const HOUR = 60 * 60 * 1000;
export const T0 = Date.parse('2030-01-01T00:00:00Z');

export interface Instance {
  lethe: Lethe;
  clock: { now: number };
  dispose(): Promise<void>;
}

const open: Instance[] = [];

/** Closes every instance `start` opened since the last call. */
export async function closeStarted(): Promise<void> {
  for (const instance of open.splice(0)) await instance.dispose();
}

export async function start(options: Partial<LetheOptions> = {}): Promise<Instance> {
  const location = await SQLITE_BACKEND.create({ migrated: true });
  const clock = { now: T0 };
  const lethe = await createLethe({ ...location, now: () => clock.now, rateLimit: false, ...options });
  const instance = {
    lethe,
    clock,
    async dispose() {
      await lethe.close();
      await location.dispose();
    },
  };
  open.push(instance);
  return instance;
}

export function get(lethe: Lethe, url: string, token?: string) {
  return lethe.app.inject({
    method: 'GET',
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

export async function admin(lethe: Lethe, ttlSeconds = 600): Promise<string> {
  return (await lethe.tokens.mint({ subject: 'test-admin', role: 'admin', ttlSeconds })).token;
}

export async function status(lethe: Lethe, token: string): Promise<number | string> {
  const response = await get(lethe, '/v1/policies', token);
  return response.statusCode === 200 ? 200 : response.json<{ error: { code: string } }>().error.code;
}
