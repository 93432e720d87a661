import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { RightsRequest } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import { SQLITE_BACKEND } from './support/backends.js';
import { api, startServer } from './support/lethe-process.js';
import { mintToken } from './support/mint.js';
import { startHttpRightsClient } from './support/rights-client-fixtures.js';
import { waitFor } from './support/wait-for.js';

/** A rights request survives the death of the `lethe serve` process that runs it. */

describe('a server killed in the middle of a request', () => {
  it('takes the interrupted task up again after the restart and finishes the request', async () => {
    const location = await SQLITE_BACKEND.create();
    const port = await freePort();
    const token = await mintToken({ dataDir: location.dataDir });
    const env = { LETHE_REQUEST_TICK_MS: '100' };
    let server = await startServer({ dataDir: location.dataDir, port, env });
    const slow = await startHttpRightsClient({
      jwksUrl: `${server.url}/.well-known/jwks.json`,
      audience: 'rights-client:archive',
      latencyMs: 2_000,
      records: new Map([['frank@example.com', [{ dataset: 'letters', pk: 'L-1', fields: { to: 'Frank' } }]]]),
    });
    try {
      const send = (method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown) =>
        api(server.url, token, method, path, body);
      expect(
        (
          await send('PUT', '/v1/systems/archive', {
            team: 'records',
            datasets: [{ name: 'letters', fields: [{ name: 'email', categories: ['user.contact.email'] }] }],
          })
        ).status,
      ).toBe(201);
      expect(
        (await send('PUT', '/v1/clients/archive', { system: 'archive', protocol: 'http', address: slow.url }))
          .status,
      ).toBe(201);
      const created = await send('POST', '/v1/requests', {
        id: 'crash-1',
        type: 'dsar',
        identifiers: { email: 'frank@example.com' },
      });
      expect(created.status).toBe(201);
      // The call is under way at the client when the server dies.
      await waitFor(async () => slow.calls.length > 0);
      await server.kill();
      server = await startServer({ dataDir: location.dataDir, port, env });
      let request: RightsRequest | undefined;
      await waitFor(async () => {
        request = (await send('GET', '/v1/requests/crash-1')).body as RightsRequest;
        return request.status === 'completed';
      }, 15_000);
      expect(request?.tasks?.[0]?.attemptLog.map((a) => a.outcome)).toEqual(['interrupted', 'ok']);
      expect(request?.rowsFound).toBe(1);
    } finally {
      await server.stop();
      await slow.close();
      await location.dispose();
    }
  }, 60_000);
});

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
