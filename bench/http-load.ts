import { Agent } from 'node:http';
import { send } from './http-client.js';

export interface LoadOptions {
  readonly url: string;
  readonly bodies: readonly Buffer[];
  readonly concurrency: number;
  readonly headers: Record<string, string>;
  /** Keep the answers' bytes instead of parsing them as JSON (a protobuf answer). */
  readonly raw?: boolean;
}

export interface LoadResult {
  readonly seconds: number;
  /** Per request, in ms, from the first byte written to the last byte read. */
  readonly latenciesMs: number[];
  /** Parsed 200 answers (their bytes when `raw`), in completion order. */
  readonly answers: unknown[];
}

/**
 * POSTs every body once with `concurrency` requests in flight over keep-alive connections, the way
 * a fleet of SDK publishers would. Stops at the first non-200 answer: a benchmark that keeps
 * going on errors measures how fast the server fails.
 */
export async function postAll(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latenciesMs: number[] = [];
  const answers: unknown[] = [];
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < options.bodies.length && !failed) {
      const body = options.bodies[next++] as Buffer;
      const started = performance.now();
      const response = await send({
        method: 'POST',
        url: options.url,
        headers: options.headers,
        body,
        agent,
      });
      latenciesMs.push(performance.now() - started);
      if (response.status !== 200) {
        failed = true;
        throw new Error(
          `POST ${options.url} answered ${response.status}: ${response.body.toString('utf8').slice(0, 500)}`,
        );
      }
      answers.push(options.raw ? response.body : JSON.parse(response.body.toString('utf8')));
    }
  };
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, () =>
        worker().catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
  } finally {
    agent.destroy();
  }
  return { seconds: (performance.now() - started) / 1000, latenciesMs, answers };
}
