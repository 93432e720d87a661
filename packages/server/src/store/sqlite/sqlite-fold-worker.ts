import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../../lib/app-error.js';
import { openSqliteConnection } from './sqlite-connection.js';
import { SqliteFoldStatements } from './sqlite-fold.js';
import type { FoldReply, FoldRequest, FoldWorkerFiles } from './sqlite-fold-thread.js';

/**
 * The fold worker's thread (`sqlite-fold-thread.ts` starts it): its own connections to the main
 * and the journal file, one fold per request, in the order asked. A fold that throws is answered
 * with its error (the main thread logs it and shows it in `/readyz`); the thread lives on.
 */
const files = workerData as FoldWorkerFiles;
const main = openSqliteConnection(files.main);
const journal = openSqliteConnection(files.journal);
// A fold waits up to a minute for the main file's write lock: a long catalog change holds it.
main.pragma('busy_timeout = 60000');
const fold = new SqliteFoldStatements(main, journal);
// Rows folded on the main thread, or before a crash, went without their delete.
fold.deleteFolded();

parentPort?.on('message', (request: FoldRequest) => {
  let reply: FoldReply;
  try {
    const result = fold.foldOnce(request.maxEvents, request.upTo);
    // Also the rows a fold inside a main-thread transaction left behind.
    fold.deleteFolded();
    reply = { id: request.id, result };
  } catch (error) {
    reply = {
      id: request.id,
      error: error instanceof Error ? error.message : String(error),
      // A coded error (`AUDIT_FAILED` when the chain cannot grow) keeps its code across threads.
      ...(error instanceof AppError ? { code: error.code } : {}),
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
    };
  }
  parentPort?.postMessage(reply);
});
