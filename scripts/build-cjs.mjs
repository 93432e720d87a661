// The CommonJS half of a dual package, run by `npm pack` (prepack) in packages/api and packages/client:
// compiles src again with tsconfig.cjs.json into dist/cjs and marks that folder CommonJS, so that
// `require('@lethe/client')` and TypeScript's `module: node16` CommonJS consumers both resolve it.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.cjs.json'], { stdio: 'inherit' });
writeFileSync('dist/cjs/package.json', `${JSON.stringify({ type: 'commonjs' })}\n`);
