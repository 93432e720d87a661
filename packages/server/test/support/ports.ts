import { createServer } from 'node:net';

/**
 * A loopback port free a moment ago: one the OS gave a listener that is closed again. Nothing
 * listens there now (a connection is refused) until something else takes it.
 */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port was assigned');
  return address.port;
}
