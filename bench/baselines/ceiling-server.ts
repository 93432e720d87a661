import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

/**
 * The ceiling: what node:http on this machine can take in when the server does nothing but read
 * and JSON.parse each body. No store can be faster than this with the same client and payloads.
 */
const { port } = parseArgs({ options: { port: { type: 'string' } } }).values;

const server = createServer((request, response) => {
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: unknown[] };
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ accepted: body.events.length, duplicates: 0, rejected: [] }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
