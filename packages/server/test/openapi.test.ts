import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoCompany } from '../src/demo/demo-company.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';

/**
 * The OpenAPI document as other languages use it: Redocly's recommended rules with no error and
 * no warning, one operationId and summary per operation, the error envelope on every operation,
 * and a client generated from it (openapi-typescript + openapi-fetch) that type-checks and calls
 * the real server.
 */

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');
const bin = (name: string) => join(repo, 'node_modules/.bin', name);

type Document = {
  paths: Record<
    string,
    Record<string, { operationId?: string; summary?: string; responses: Record<string, unknown> }>
  >;
  components: { schemas: Record<string, unknown> };
};

describe('the OpenAPI document', () => {
  let work: string;
  let lethe: Lethe;
  let location: Awaited<ReturnType<typeof SQLITE_BACKEND.create>>;
  let url: string;
  let token: string;
  let document: Document;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'lethe-openapi-'));
    location = await SQLITE_BACKEND.create({ migrated: true });
    lethe = await createLethe({ dataDir: location.dataDir });
    await loadDemoCompany(lethe.services);
    url = await lethe.app.listen({ port: 0, host: '127.0.0.1' });
    ({ token } = await lethe.tokens.mint({ subject: 'openapi', role: 'admin', ttlSeconds: 600 }));
    document = (await (await fetch(`${url}/openapi.json`)).json()) as Document;
    await writeFile(join(work, 'openapi.json'), JSON.stringify(document));
  });

  afterAll(async () => {
    await lethe?.close();
    await location?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('passes redocly lint with no error and no warning', async () => {
    const lint = await run(bin('redocly'), ['lint', join(work, 'openapi.json'), '--format=summary'], {
      cwd: work,
    }).catch((error: { stdout: string; stderr: string }) => error);
    const output = `${lint.stdout}\n${lint.stderr}`;
    expect(output).not.toMatch(/^(error|warning)\s/m);
    expect(output).toContain('Your API description is valid');
  }, 60_000);

  it('names and summarises every operation once, with the error envelope', () => {
    const ids: string[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        expect(operation.summary, `${method} ${path}`).toMatch(/\S/);
        ids.push(operation.operationId ?? `(none: ${method} ${path})`);
        expect(operation.responses['4XX']).toEqual({ $ref: '#/components/responses/Error' });
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    // Shared schemas are components, referenced rather than repeated per operation.
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(['Policy', 'UsageEvent', 'RightsRequest', 'Error']),
    );
  });

  it('generates a typed client that type-checks and calls the server', async () => {
    await run(bin('openapi-typescript'), [join(work, 'openapi.json'), '-o', join(work, 'lethe.d.ts')]);
    await symlink(join(repo, 'node_modules'), join(work, 'node_modules'));
    await writeFile(join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    await writeFile(
      join(work, 'consumer.ts'),
      `import createClient from 'openapi-fetch';
import type { paths } from './lethe.js';

const client = createClient<paths>({ baseUrl: process.env['LETHE_URL'], headers: { authorization: 'Bearer ' + process.env['LETHE_TOKEN'] } });
const { data } = await client.GET('/v1/policies/{name}', { params: { path: { name: 'user-account-access' } } });
const retention: string | undefined = data?.retention;
const { error } = await client.GET('/v1/policies/{name}', { params: { path: { name: 'no-such-policy' } } });
export function misuse(): void {
  // @ts-expect-error the path parameter is required
  void client.GET('/v1/policies/{name}', {});
}
console.log(JSON.stringify({ retention, code: error?.error.code }));
`,
    );
    await writeFile(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          strict: true,
          outDir: 'out',
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', work]);
    const { stdout } = await run(process.execPath, [join(work, 'out/consumer.js')], {
      env: { ...process.env, LETHE_URL: url, LETHE_TOKEN: token },
    });
    expect(JSON.parse(stdout)).toEqual({ retention: expect.stringMatching(/^P/), code: 'POLICY_NOT_FOUND' });
  }, 300_000);
});
