import { request } from 'node:http';

export interface StreamResult {
  readonly lines: number;
  readonly bytes: number;
  readonly seconds: number;
  /** False when the time budget ran out first and the client hung up. */
  readonly complete: boolean;
  /** The first line, parsed, to check the stream carries what it should. */
  readonly first: unknown;
}

export interface NdjsonReader {
  /** Lines received so far, for progress sampling. */
  linesSoFar(): number;
  readonly done: Promise<StreamResult>;
}

const NEWLINE = 0x0a;

/**
 * Reads an NDJSON response, counting lines as the bytes arrive instead of parsing each, so the
 * client is not what limits the rate. Hangs up after `budgetSeconds`: the benchmark must end
 * even when the server streams far slower than expected.
 */
export function readNdjson(url: string, token: string, budgetSeconds: number): NdjsonReader {
  let lines = 0;
  let bytes = 0;
  let head = '';
  const started = performance.now();
  const result = (complete: boolean): StreamResult => {
    const firstLine = head.split('\n')[0] ?? '';
    return {
      lines,
      bytes,
      seconds: (performance.now() - started) / 1000,
      complete,
      first: firstLine ? (JSON.parse(firstLine) as unknown) : undefined,
    };
  };
  const done = new Promise<StreamResult>((resolve, reject) => {
    const outgoing = request(
      url,
      { headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' } },
      (incoming) => {
        if (incoming.statusCode !== 200) {
          reject(new Error(`GET ${url} answered ${incoming.statusCode}`));
          incoming.resume();
          return;
        }
        const timer = setTimeout(() => {
          resolve(result(false));
          outgoing.destroy();
        }, budgetSeconds * 1000);
        incoming.on('data', (chunk: Buffer) => {
          if (lines === 0 && head.length < 4_096) head += chunk.toString('utf8');
          bytes += chunk.length;
          for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) lines += 1;
        });
        incoming.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        incoming.on('end', () => {
          clearTimeout(timer);
          resolve(result(true));
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
  return { linesSoFar: () => lines, done };
}
