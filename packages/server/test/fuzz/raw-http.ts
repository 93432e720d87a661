import { Agent, request } from 'node:http';

/** One request exactly as the fuzzer means it: the path is sent byte for byte, not normalised. */
export interface RawRequest {
  readonly method: string;
  /** Path and query, already percent-encoded (or deliberately not). */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer | undefined;
}

export interface RawResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly ms: number;
}

/**
 * Sends over real HTTP on loopback with keep-alive. `fetch` would not do: the WHATWG URL parser
 * resolves `..` and `%2e%2e` and re-encodes what it does not like, so the server would never see
 * the paths the fuzzer makes.
 */
export class RawHttp {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs = 30_000,
  ) {}

  send(raw: RawRequest): Promise<RawResponse> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          host: this.host,
          port: this.port,
          method: raw.method,
          path: raw.path,
          agent: this.agent,
          headers: {
            ...raw.headers,
            ...(raw.body === undefined ? {} : { 'content-length': String(raw.body.length) }),
          },
          timeout: this.timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              contentType: String(response.headers['content-type'] ?? ''),
              body: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - started,
            }),
          );
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      outgoing.on('error', reject);
      outgoing.end(raw.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Percent-encodes like `encodeURIComponent`, but a lone surrogate (which that function refuses)
 * is sent as its WTF-8 bytes, `\ud800` as `%ED%A0%80`: what a sloppy client would put on the wire.
 */
export function encodePart(value: string): string {
  let out = '';
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    const isHigh = code >= 0xd800 && code <= 0xdbff;
    const next = value.charCodeAt(index + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(value.slice(index, index + 2));
      index += 1;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join('');
    } else {
      out += encodeURIComponent(value[index]!);
    }
  }
  return out;
}
