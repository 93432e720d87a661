import { textArray, bigintArray } from '../packages/server/src/store/postgres/array-literal.js';
const s = Array.from({ length: 265000 }, (_, i) => `subject-${String(i % 20000).padStart(8, '0')}`);
const n = Array.from({ length: 265000 }, (_, i) => 1700000000000 + i * 1000);
for (let r = 0; r < 5; r++) {
  let t = performance.now(); const a = textArray(s); const t1 = performance.now() - t;
  t = performance.now(); const b = bigintArray(n); const t2 = performance.now() - t;
  t = performance.now(); const c = '{"' + s.join('","') + '"}'; const t3 = performance.now() - t;
  console.log(t1.toFixed(0), t2.toFixed(0), t3.toFixed(0), a.length + b.length + c.length);
}
