import { connect, type Socket } from 'node:net';

/**
 * HTTP over a bare TCP socket, for what an HTTP client will not send: a malformed request line,
 * oversized headers, a body that stops half way, requests pipelined behind one another.
 */
export interface RawResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawConnection {
  readonly socket: Socket;
  send(text: string): void;
  /** Everything the server wrote, once it closed the connection, and when that was. */
  closed(): Promise<{ text: string; closedAt: number }>;
}

export async function openRaw(port: number): Promise<RawConnection> {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  // A reset after the server's answer still ends the exchange; what arrived is what counts.
  socket.on('error', () => undefined);
  const closed = new Promise<{ text: string; closedAt: number }>((resolve) =>
    socket.once('close', () => resolve({ text, closedAt: Date.now() })),
  );
  return { socket, send: (chunk) => socket.write(chunk), closed: () => closed };
}

/** Sends `text` and waits for the server to close the connection. */
export async function exchange(port: number, text: string): Promise<RawResponse[]> {
  const connection = await openRaw(port);
  connection.send(text);
  return parseResponses((await connection.closed()).text);
}

/** Splits what a server wrote into responses (each framed by its Content-Length). */
export function parseResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`not an HTTP response: ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? rest.length - end - 4);
    // Bodies here are ASCII JSON, so characters and bytes agree.
    const body = rest.slice(end + 4, end + 4 + length);
    responses.push({ status: Number(statusLine.split(' ')[1]), headers, body });
    rest = rest.slice(end + 4 + length);
  }
  return responses;
}
