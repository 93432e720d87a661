import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { loadDemoCompany } from '../src/demo/demo-company.js';
import { SQLITE_BACKEND } from './support/backends.js';

/**
 * The SDK as someone outside this repository gets it: `npm pack` of @lethe/api and @lethe/client,
 * installed from the two tarballs into a fresh project (dependencies from the registry or npm's
 * cache), type-checked with `skipLibCheck: false` as an ES module project and as a `module: node16`
 * CommonJS project, then run against a real server. A misuse marked `@ts-expect-error` proves the
 * types are real: were they `any`, the directive itself would be the error.
 */

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');

const CONSUMER = `
import { LetheApiError, LetheClient } from '@lethe/client';
import type { Policy } from '@lethe/api';

const lethe = new LetheClient({ url: process.env['LETHE_URL']!, token: process.env['LETHE_TOKEN']! });
export function misuse(): void {
  // @ts-expect-error retention is an ISO 8601 duration string, not a number
  void lethe.putPolicy('typed', { purpose: 'essential.account', retention: 24, legalBasis: 'contract' });
}

async function main(): Promise<void> {
  const policies: Policy[] = (await lethe.listPolicies()).items;
  let code = '';
  try {
    await lethe.getPolicy('no-such-policy');
  } catch (error) {
    if (error instanceof LetheApiError) code = error.code;
  }
  console.log(JSON.stringify({ policies: policies.length, code }));
}
void main();
`;

function tsconfig(module: 'nodenext' | 'node16'): string {
  return JSON.stringify({
    compilerOptions: {
      module,
      target: 'es2022',
      strict: true,
      skipLibCheck: false,
      outDir: 'out',
      types: ['node'],
    },
    files: ['consumer.ts'],
  });
}

describe('the SDK installed from its tarballs in a fresh project', () => {
  let work: string;
  let lethe: Lethe;
  let location: Awaited<ReturnType<typeof SQLITE_BACKEND.create>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'lethe-sdk-'));
    const tarballs = join(work, 'tarballs');
    await mkdir(tarballs);
    for (const pkg of ['api', 'client']) {
      await run('npm', ['pack', '--pack-destination', tarballs], { cwd: join(repo, 'packages', pkg) });
    }
    const files = (await readdir(tarballs)).map((file) => join(tarballs, file));
    // The consumer's own Node types, at the version this repository type-checks with.
    const nodeTypes = `@types/node@${JSON.parse(await readFile(join(repo, 'node_modules/@types/node/package.json'), 'utf8')).version}`;
    expect(files).toHaveLength(2);
    for (const [dir, type] of [
      ['esm', 'module'],
      ['cjs', 'commonjs'],
    ] as const) {
      const project = join(work, dir);
      await mkdir(project);
      await writeFile(
        join(project, 'package.json'),
        JSON.stringify({ name: `consumer-${dir}`, private: true, type }),
      );
      await writeFile(join(project, 'tsconfig.json'), tsconfig(dir === 'esm' ? 'nodenext' : 'node16'));
      await writeFile(join(project, 'consumer.ts'), CONSUMER);
      await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...files, nodeTypes], {
        cwd: project,
      });
    }
    location = await SQLITE_BACKEND.create({ migrated: true });
    lethe = await createLethe({ dataDir: location.dataDir });
    await loadDemoCompany(lethe.services);
    const url = await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    const { token } = await lethe.tokens.mint({ subject: 'sdk-consumer', role: 'admin', ttlSeconds: 600 });
    env = { ...process.env, LETHE_URL: url, LETHE_TOKEN: token };
  }, 240_000);

  afterAll(async () => {
    await lethe?.close();
    await location?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  // Checking TypeBox 1's own declarations (skipLibCheck false) takes tsc about 19 s of CPU where
  // TypeBox 0.34's took 7 s: more than the default 30 s on a busy machine.
  it.each(['esm', 'cjs'])(
    'type-checks with skipLibCheck false and calls the server (%s)',
    async (dir) => {
      const project = join(work, dir);
      await run(process.execPath, [tsc, '-p', project], { cwd: project });
      const { stdout } = await run(process.execPath, [join(project, 'out/consumer.js')], {
        cwd: project,
        env,
      });
      const answer = JSON.parse(stdout) as { policies: number; code: string };
      expect(answer.policies).toBeGreaterThan(0);
      expect(answer.code).toBe('POLICY_NOT_FOUND');
    },
    180_000,
  );
});
