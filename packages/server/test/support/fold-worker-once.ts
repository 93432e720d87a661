import { existsSync, writeFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import type { FoldWorkerFiles } from '../../src/store/sqlite/sqlite-fold-thread.js';

/**
 * A fold worker that dies the first time it is started for a journal file (leaving a marker
 * beside it), and is the real worker afterwards: for the test of a worker restart.
 */
const marker = `${(workerData as FoldWorkerFiles).journal}.crashed`;
if (existsSync(marker)) await import('../../src/store/sqlite/sqlite-fold-worker.js');
else {
  writeFileSync(marker, '');
  process.exit(3);
}
