import { createServer, type Server } from 'node:http';

/**
 * The HTTP side of both baselines: reads each POST body, JSON.parses it, hands the events to
 * `store` and answers like `POST /v1/events`. Any GET answers 200 (the readiness probe).
 */
export function serveBatches<Event>(port: number, store: (events: Event[]) => void): Server {
  const server = createServer((request, response) => {
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { events } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: Event[] };
      store(events);
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ accepted: events.length, duplicates: 0, rejected: [] }));
    });
  });
  server.keepAliveTimeout = 60_000;
  return server.listen(port, '127.0.0.1');
}
