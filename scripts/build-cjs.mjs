// The CommonJS half of a dual package, run by `npm pack` (prepack) in packages/api and packages/client:
// compiles src again with tsconfig.cjs.json into dist/cjs and marks that folder CommonJS, so that
// `require('@lethe/client')` and TypeScript's `module: node16` CommonJS consumers both resolve it.
//
// `typebox` is ESM-only: at run time the CommonJS build `require`s it (Node.js 20.19 loads ES
// modules that way), but TypeScript under `module: node16` refuses a CommonJS declaration file that
// imports it (TS1479). Its imports in dist/cjs declarations become type-only imports that resolve
// as ES module imports (`resolution-mode: import`), which TypeScript takes in CommonJS files; a
// declaration file only uses them as types.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import process from 'node:process';

const ESM_ONLY = ['typebox'];

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.cjs.json'], { stdio: 'inherit' });
writeFileSync('dist/cjs/package.json', `${JSON.stringify({ type: 'commonjs' })}\n`);

const from = new RegExp(`^import \\{ ([^}]*) \\} from '(${ESM_ONLY.join('|')})';$`, 'gm');
for (const entry of readdirSync('dist/cjs', { recursive: true, encoding: 'utf8' })) {
  if (!entry.endsWith('.d.ts')) continue;
  const file = join('dist/cjs', entry);
  const text = readFileSync(file, 'utf8');
  const typeOnly = text.replace(
    from,
    (_line, names, module) =>
      `import type { ${names.replace(/\btype /g, '')} } from '${module}' with { 'resolution-mode': 'import' };`,
  );
  const left = typeOnly.match(new RegExp(`^.*['"](${ESM_ONLY.join('|')})['"](?!.*resolution-mode).*$`, 'm'));
  if (left) throw new Error(`${file}: an ESM-only import this script does not rewrite: ${left[0]}`);
  if (typeOnly !== text) writeFileSync(file, typeOnly);
}
