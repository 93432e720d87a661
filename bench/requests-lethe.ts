import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RightsRequest } from '@lethe/api';
import { DEFAULT_REQUEST_SETTINGS } from '../packages/server/src/requests/request-settings.js';
import { createLethe, type Lethe } from '../packages/server/src/server.js';

/**
 * How often the benchmark asks whether a request has completed. The time is read from the
 * request's own `completedAt`, so polling only has to notice the end; polling faster would load
 * the event loop Lethe shares with the benchmark (a request with 50 tasks is a large answer).
 */
export const POLL_MS = 50;
/** The runner's tick; a new request also wakes it at once. */
export const REQUEST_TICK_MS = 50;

/** Lethe in this process, on a fresh SQLite data directory, listening on 127.0.0.1. */
export interface BenchLethe {
  readonly lethe: Lethe;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** An admin token: registers systems, clients and connectors, and files requests. */
  readonly token: string;
  close(): Promise<void>;
}

export async function startBenchLethe(env: NodeJS.ProcessEnv = {}): Promise<BenchLethe> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-bench-requests-'));
  try {
    const lethe = await createLethe({
      dataDir,
      // The bench measures the erasure itself, so the approval rail for large erasures
      // (10,000 rows here, over the default 1,000) is off: a real deployment would wait for a DPO.
      requestSettings: { ...DEFAULT_REQUEST_SETTINGS, erasureApprovalRows: 0 },
      requestTickMs: REQUEST_TICK_MS,
      rateLimit: false,
      env,
    });
    const url = await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    const token = (await lethe.tokens.mint({ subject: 'bench-admin', role: 'admin', ttlSeconds: 3600 }))
      .token;
    return {
      lethe,
      url,
      token,
      async close() {
        try {
          await lethe.close();
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** One call to Lethe's API over HTTP; anything but a 2xx is an error naming the answer. */
export async function api<T>(server: BenchLethe, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

export interface TimedRequest {
  /** From sending `POST /v1/requests` to the request's `completedAt` (same host, same clock). */
  readonly ms: number;
  readonly request: RightsRequest;
}

/**
 * Files a request and polls it every POLL_MS until it is completed; the time is from just before
 * sending the POST to the `completedAt` Lethe recorded. A request that fails, or
 * does not complete within `timeoutMs`, stops the benchmark with its tasks.
 */
export async function fileAndWait(
  server: BenchLethe,
  body: { id: string; type: string; strategy?: string; identifiers: Record<string, string> },
  timeoutMs = 120_000,
): Promise<TimedRequest> {
  const started = performance.now();
  const sentAt = Date.now();
  await api<RightsRequest>(server, 'POST', '/v1/requests', body);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const request = await api<RightsRequest>(server, 'GET', `/v1/requests/${encodeURIComponent(body.id)}`);
    if (request.status === 'completed' && request.completedAt !== undefined) {
      return { ms: Date.parse(request.completedAt) - sentAt, request };
    }
    if (request.status !== 'in_progress' || performance.now() - started > timeoutMs) {
      const tasks = (request.tasks ?? []).map(
        (task) => `${task.target}: ${task.state} ${task.lastError ?? ''}`,
      );
      throw new Error(`request ${body.id} is ${request.status}: ${tasks.join('; ').slice(0, 2000)}`);
    }
  }
}
