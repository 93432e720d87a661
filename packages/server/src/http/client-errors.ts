import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ERRORS, type ErrorBody, type ErrorCode } from '@lethe/api';
import type { FastifyInstance } from 'fastify';
import { answerHeaders } from './security-headers.js';

/** Node's reasons for refusing a request (`error.code`) as our codes. */
function codeOf(nodeCode: string | undefined): ErrorCode {
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT';
  if (nodeCode === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE';
  return 'MALFORMED_REQUEST';
}

/**
 * Fastify's `clientErrorHandler`: what Node refuses on the connection itself, a request line or
 * header that is not HTTP, headers over 16 KiB, a request not in full by the deadline
 * (`requestTimeout`). Node hands over the socket only, so the answer is written raw, still in the
 * envelope, with a request id of its own (the one in the log line) and the API's headers: the
 * path is not known here, and the API's are the strictest. Then the connection is closed.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: NodeJS.ErrnoException,
  socket: Socket,
): void {
  // A reset or already closed connection: nobody is left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code = codeOf(error.code);
  const requestId = randomUUID();
  // The code, never the error: its `rawPacket` holds the request's bytes, a token among them.
  this.log.info({ reqId: requestId, reason: error.code }, `refused a request on its connection: ${code}`);
  if (socket.writable && !answerStarted(socket)) {
    const { status, message } = ERRORS[code];
    const body = JSON.stringify({ error: { code, message, requestId } } satisfies ErrorBody);
    const headers = {
      ...answerHeaders(requestId, '/v1'),
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    };
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head.join('')}\r\n${body}`);
  }
  socket.destroy();
}

/**
 * Whether an answer to this connection's current request has begun: a second status line after
 * it would corrupt the stream (Node's own handler checks the same).
 */
function answerStarted(socket: Socket): boolean {
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  return current?.headersSent === true;
}
