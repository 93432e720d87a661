import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';
import { companyManifest } from './support/company-manifest.js';
import { runLethe } from './support/lethe-process.js';

/**
 * Every name a manifest carries obeys the API's one rule for names (`Name` in @lethe/api): an
 * entry the API could not address afterwards (`GET /v1/policies/../../etc` is a 400) is refused
 * by `POST /v1/manifest` and by `lethe apply` alike, named by its path.
 */
let lethe: Lethe;
let token: string;
let dispose: () => Promise<void>;
const scratch = mkdtempSync(join(tmpdir(), 'lethe-manifest-names-'));

beforeAll(async () => {
  const location = await SQLITE_BACKEND.create({ migrated: true });
  dispose = location.dispose;
  lethe = await createLethe({ ...location, rateLimit: false });
  token = (await lethe.tokens.mint({ subject: 'names-test', role: 'admin', ttlSeconds: 600 })).token;
});
afterAll(async () => {
  await lethe?.close();
  await dispose?.();
  rmSync(scratch, { recursive: true, force: true });
});

function call(method: 'GET' | 'POST', url: string, payload?: unknown) {
  return lethe.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

/** The company manifest with one name replaced, at `path` (`['policies', 0, 'name']`). */
function withName(path: readonly (string | number)[], name: string): Manifest {
  const manifest = companyManifest();
  let node = manifest as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1) as string | number] = name;
  return manifest;
}

const BAD_NAMES: readonly [path: (string | number)[], name: string][] = [
  [['policies', 0, 'name'], '../../etc'],
  [['policies', 1, 'name'], 'a b<script>'],
  [['teams', 0, 'name'], '../team'],
  [['systems', 0, 'name'], 'accounts/../x'],
  [['systems', 0, 'datasets', 0, 'name'], 'acc ounts'],
  [['flows', 0, 'from'], '../accounts'],
  [['clients', 0, 'name'], 'accounts http'],
  [['sources', 0, 'name'], '../prometheus'],
  [['connectors', 0, 'name'], 'accounts-db;'],
  [['policies', 2, 'name'], `a${'b'.repeat(128)}`],
];

describe('names in a manifest', () => {
  it.each(BAD_NAMES)(
    'POST /v1/manifest refuses %j = %j with 400 VALIDATION_FAILED, naming the entry',
    async (path, name) => {
      const response = await call('POST', '/v1/manifest', withName(path, name));
      expect(response.statusCode, response.body).toBe(400);
      const { error } = response.json();
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.message).toContain(`body/${path.join('/')}`);
      // Nothing of the manifest was kept.
      expect((await call('GET', '/v1/teams')).json().items).toEqual([]);
    },
  );

  it('the same names are refused by `lethe apply -f` before anything is sent, by file, line and path', async () => {
    const file = join(scratch, 'bad-names.yaml');
    const text = [
      'teams:',
      '  - name: ../team',
      'policies:',
      '  - name: ../../etc',
      '    purpose: essential.account',
      '    retention: P1Y',
      '    legalBasis: contract',
      '',
    ].join('\n');
    writeFileSync(file, text);
    // No server listens there: a refusal must come before any request.
    const result = await runLethe(['apply', '-f', file], {
      LETHE_URL: 'http://127.0.0.1:9',
      LETHE_TOKEN: 'x',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:2: teams[0].name: "../team" is not a valid name`);
    expect(result.stderr).toContain('letters, digits');
    expect(result.stderr).not.toContain('fetch failed');
  });

  it('rows stored with such names before the rule are listed, unaddressable, and removed by apply --prune', async () => {
    // The service itself takes any name: this is how a manifest applied by an older release left them.
    const legacy: Manifest = {
      teams: [{ name: '../team' }],
      policies: [
        { name: 'a b<script>', purpose: 'essential.account', retention: 'P1Y', legalBasis: 'contract' },
      ],
    };
    await lethe.services.manifests.apply(LETHE_ITSELF, legacy);
    expect((await call('GET', '/v1/teams')).json().items.map((t: { name: string }) => t.name)).toEqual([
      '../team',
    ]);
    expect((await call('GET', `/v1/policies/${encodeURIComponent('a b<script>')}`)).statusCode).toBe(400);

    const pruned = await call('POST', '/v1/manifest?prune=true', { teams: [{ name: 'team' }] });
    expect(pruned.statusCode, pruned.body).toBe(200);
    expect(pruned.json().changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ section: 'teams', name: '../team', action: 'removed' }),
        expect.objectContaining({ section: 'policies', name: 'a b<script>', action: 'removed' }),
      ]),
    );
    expect((await call('GET', '/v1/teams')).json().items.map((t: { name: string }) => t.name)).toEqual([
      'team',
    ]);
  });
});
