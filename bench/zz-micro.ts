import { addDuration } from '/work/wt/pgfold/packages/server/src/lib/duration.js';
import { decodeJournalRow, encodeJournalRow, type JournalEvent } from '/work/wt/pgfold/packages/server/src/retention/journal/journal-codec.js';
import { aggregateFold } from '/work/wt/pgfold/packages/server/src/store/postgres/fold-aggregate.js';
import { aggregateBatch } from '/work/wt/pgfold/packages/server/src/retention/usage-batch.js';
import { RETENTIONS } from '/work/wt/pgfold/bench/catalog.js';
import { generateWorkload } from '/work/wt/pgfold/bench/workload.js';
import { textArray, bigintArray } from '/work/wt/pgfold/packages/server/src/store/postgres/array-literal.js';
import { prepareValue } from '/work/wt/pgfold/node_modules/pg/lib/utils.js';
const w = generateWorkload({ events: 100000, subjects: 20000, batch: 2000, now: Date.now() });
const rows = w.bodies.map((body) => encodeJournalRow((JSON.parse(body.toString()).events as any[]).map((e): JournalEvent => { const at = Date.parse(e.at); return { subject: e.subject, system: e.system, policy: e.policy, fields: e.fields, at, keepsUntil: addDuration(at, RETENTIONS.get(e.policy)!) }; })));
for (let round = 0; round < 4; round++) {
  let t = performance.now();
  const events: JournalEvent[] = [];
  for (const r of rows) decodeJournalRow(r, events);
  const tDecode = performance.now() - t; t = performance.now();
  const tables = aggregateFold(events, () => ({ grantedAt: null, withdrawnAt: null }));
  const tAgg = performance.now() - t; t = performance.now();
  let n = 0;
  for (const table of Object.values(tables)) for (const col of Object.values(table)) n += (typeof (col as any[])[0] === 'string' ? textArray(col as string[]) : bigintArray(col as number[])).length;
  const tSer = performance.now() - t; t = performance.now();
  aggregateBatch(events);
  const tOld = performance.now() - t;
  console.log(`decode ${tDecode.toFixed(0)} aggregateFold ${tAgg.toFixed(0)} serialise ${tSer.toFixed(0)} (old aggregateBatch ${tOld.toFixed(0)}) ms per 100k`);
}
