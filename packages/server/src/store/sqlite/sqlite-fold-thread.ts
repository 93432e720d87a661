import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ErrorCode } from '@lethe/api';
import { AppError } from '../../lib/app-error.js';
import type { FoldResult } from '../store.js';

export interface FoldWorkerFiles {
  readonly main: string;
  readonly journal: string;
}

export interface FoldRequest {
  readonly id: number;
  readonly maxEvents: number;
  readonly upTo: number;
}

export type FoldReply =
  | { readonly id: number; readonly result: FoldResult }
  | { readonly id: number; readonly error: string; readonly code?: ErrorCode; readonly stack?: string };

interface Pending {
  readonly resolve: (result: FoldResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The SQLite fold on a worker thread (`sqlite-fold-worker.ts`), so that folding never holds the
 * event loop that acknowledges ingest. The main thread asks for one fold at a time and awaits
 * it. A worker that dies fails what it was asked and the next request, with `UNAVAILABLE` (the
 * journal's fold logs it and `/readyz` shows it); the request after that starts a new worker.
 * Started on the first request, so that CLI commands that never fold never start one.
 */
export class FoldThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the last worker died, until a request has been told. */
  private death: Error | undefined;
  private closing = false;

  constructor(
    private readonly files: FoldWorkerFiles,
    /** The worker's entry; tests pass one that fails, or the compiled one. */
    private readonly entry: URL = workerEntry(),
  ) {}

  fold(maxEvents: number, upTo: number): Promise<FoldResult> {
    if (this.death) {
      const death = this.death;
      this.death = undefined;
      return Promise.reject(death);
    }
    const worker = this.running();
    const id = this.nextId++;
    // Referenced while it has work: a CLI command awaiting a fold must not exit under it.
    worker.ref();
    return new Promise<FoldResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, maxEvents, upTo } satisfies FoldRequest);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private running(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(this.entry, this.files);
    worker.on('message', (reply: FoldReply) => {
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('error' in reply) pending?.reject(foldError(reply));
      else pending?.resolve(reply.result);
      if (this.pending.size === 0) worker.unref();
    });
    worker.on('error', (error) => this.died(worker, error));
    worker.on('exit', (code) => this.died(worker, new Error(`exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private died(worker: Worker, cause: Error): void {
    if (this.worker !== worker || this.closing) return;
    this.worker = undefined;
    const error = new AppError(
      'UNAVAILABLE',
      `The usage journal's fold worker stopped (${cause.message}); it is restarted on the next fold.`,
      undefined,
      { cause },
    );
    if (this.pending.size === 0) this.death = error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

/** The worker's error on this thread, with its code when it had one and its stack as the cause. */
function foldError(reply: { error: string; code?: ErrorCode; stack?: string }): Error {
  const message = `usage journal fold failed: ${reply.error}`;
  const cause = reply.stack === undefined ? undefined : { cause: reply.stack };
  return reply.code ? new AppError(reply.code, message, undefined, cause) : new Error(message, cause);
}

/** The worker beside this module: compiled in `dist/`, TypeScript under Vitest or tsx. */
function workerEntry(): URL {
  return new URL(
    import.meta.url.endsWith('.ts') ? './sqlite-fold-worker.ts' : './sqlite-fold-worker.js',
    import.meta.url,
  );
}

/**
 * From the sources (tests, `tsx`), the worker is TypeScript: Node 20 does not pass `--import`
 * hooks to workers, so a bootstrap registers tsx's loader through its API and imports it.
 */
function startWorker(entry: URL, files: FoldWorkerFiles): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: files });
  // The package's `import` condition of `tsx/esm/api` (createRequire resolves the `require` one).
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(
    /\.cjs$/,
    '.mjs',
  );
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`;
  return new Worker(bootstrap, { eval: true, workerData: files });
}
