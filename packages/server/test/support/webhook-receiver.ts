import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}
export interface Message {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

/**
 * A real receiver on loopback: records every POST and answers by path: `/flaky` 500 to its
 * first two calls and then 200, `/down` always 500, `/hang` never (until closed), any other path
 * 204; `/metrics` serves an exposition for the discovery source (drift).
 */
export async function startReceiver(exposition: () => string) {
  const received: Received[] = [];
  let flakyCalls = 0;
  const server: Server = createServer((request, response) => {
    void (async () => {
      let body = '';
      for await (const chunk of request) body += String(chunk);
      const path = request.url ?? '/';
      if (path === '/metrics') {
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition());
        return;
      }
      received.push({ path, headers: request.headers, body, at: Date.now() });
      if (path === '/hang') return;
      const status = path === '/down' ? 500 : path === '/flaky' ? ((flakyCalls += 1) <= 2 ? 500 : 200) : 204;
      response.writeHead(status).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    messages: (path = '/ok') =>
      received.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as Message),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
