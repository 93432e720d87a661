import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { createLethe, type Lethe } from '../../src/server.js';
import type { Backend } from './backends.js';

type MintRequest = Parameters<Lethe['tokens']['mint']>[0];
type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

/** A Lethe on one backend for a describe block, reached through `app.inject` with named tokens. */
export interface BackendLethe<Name extends string> {
  readonly lethe: () => Lethe;
  /** `method url` with `payload` as JSON, authorised by the token named `as` (the first by default). */
  readonly call: (
    method: Method,
    url: string,
    payload?: unknown,
    as?: Name,
  ) => Promise<LightMyRequestResponse>;
}

/**
 * Opens a Lethe on `backend` before the block's tests (none when the backend is missing here) with
 * a token per entry of `tokens` (ten minutes each), and closes and removes it after them.
 */
export function backendLethe<Name extends string>(
  backend: Backend,
  missing: boolean,
  tokens: Record<Name, Omit<MintRequest, 'ttlSeconds'>>,
): BackendLethe<Name> {
  let lethe: Lethe | undefined;
  let dispose: () => Promise<void> = async () => {};
  const minted = new Map<Name, string>();
  const names = Object.keys(tokens) as Name[];
  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    lethe = await createLethe({ ...location, rateLimit: false });
    dispose = location.dispose;
    for (const name of names) {
      minted.set(name, (await lethe.tokens.mint({ ...tokens[name], ttlSeconds: 600 })).token);
    }
  });
  afterAll(async () => {
    await lethe?.close();
    await dispose();
  });
  const opened = () => {
    if (!lethe) throw new Error('The Lethe of this block is not open (is its backend missing?)');
    return lethe;
  };
  return {
    lethe: opened,
    call: (method, url, payload, as = names[0]) =>
      opened().app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${as === undefined ? '' : minted.get(as)}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      }),
  };
}
