import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LETHE_ITSELF } from '../../src/auth/principal.js';
import { demoManifest, loadDemoCompany } from '../../src/demo/demo-company.js';
import { loggerOptions } from '../../src/http/logging.js';
import { DEFAULT_REQUEST_SETTINGS } from '../../src/requests/request-settings.js';
import { createLethe, type Lethe } from '../../src/server.js';
import { mintCallers, type CallerToken } from './callers.js';
import { operationsOf, type Operation } from './operations.js';
import { HiddenNames, type CatalogField } from './oracles.js';
import { RawHttp } from './raw-http.js';
import type { Words } from './schema-arbitrary.js';
import { SEEDS, wordsOf } from './seeds.js';

/** Rights requests the world makes, in the states the request routes act on. */
const REQUESTS = {
  'fz-req-new': [],
  'fz-req-verified': ['verify-identity'],
  'fz-req-running': ['verify-identity', 'approve'],
  'fz-req-delete': ['verify-identity', 'approve'],
} as const;

/**
 * Everything a fuzz run needs: an in-process Lethe on a temporary SQLite directory, listening on
 * loopback, loaded with the demo company (300 subjects, events, consent, a stream) and a little
 * more (a connector, an export, a discovery source, rights requests in several states), tokens
 * for every caller, and what the oracles must know.
 */
export interface FuzzWorld {
  readonly lethe: Lethe;
  readonly http: RawHttp;
  readonly operations: readonly Operation[];
  readonly words: Words;
  callers: CallerToken[];
  /** Subject ids and identifying e-mails a grant-less auditor must never be shown. */
  readonly subjectIds: ReadonlySet<string>;
  /** What each category scope must not see, by the scope joined with ','. */
  readonly hidden: ReadonlyMap<string, HiddenNames>;
  /** Server error log lines by request id, for the 5xx findings. */
  readonly errors: Map<string, string>;
  /** After a key rotation that revoked the previous key. */
  remint(): Promise<void>;
  /** After a catalog change: forget what the scopes may now see. */
  refreshHidden(): Promise<void>;
  /** Puts the demo's configuration back (a manifest with prune may have removed it). */
  restoreDemo(): Promise<void>;
  close(): Promise<void>;
}

export async function openFuzzWorld(): Promise<FuzzWorld> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-fuzz-'));
  const errors = new Map<string, string>();
  const lethe = await createLethe({
    dataDir,
    rateLimit: false,
    env: {},
    requestSettings: {
      ...DEFAULT_REQUEST_SETTINGS,
      requireVerification: true,
      requireApproval: true,
      callTimeoutMs: 2_000,
      maxAttempts: 2,
    },
    requestTickMs: 200,
    logger: loggerOptions({ level: 'error', stream: { write: (line: string) => remember(errors, line) } }),
  });
  if (!(await loadDemoCompany(lethe.services))) throw new Error('the fuzz store was not empty');
  await lethe.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = lethe.app.server.address() as AddressInfo;
  const http = new RawHttp('127.0.0.1', port);
  const callers = await mintCallers(lethe.tokens);
  const admin = callers.find((caller) => caller.caller.name === 'admin')!.authorization!;
  await furnish(http, admin, port);

  const catalog = async () => catalogOf(lethe);
  const initial = await catalog();
  const hidden = new Map<string, HiddenNames>();
  for (const { categories } of callers) {
    if (categories && !hidden.has(categories.join(','))) {
      hidden.set(categories.join(','), new HiddenNames(categories, initial));
    }
  }
  const world: FuzzWorld = {
    lethe,
    http,
    operations: operationsOf(lethe.app.swagger()),
    words: wordsOf(Object.keys(REQUESTS)),
    callers,
    subjectIds: subjectIds(),
    hidden,
    errors,
    async remint() {
      world.callers = await mintCallers(lethe.tokens);
    },
    async refreshHidden() {
      const now = await catalog();
      for (const names of hidden.values()) names.shrink(now);
    },
    async restoreDemo() {
      await lethe.services.manifests.apply(LETHE_ITSELF, demoManifest());
    },
    async close() {
      http.close();
      await lethe.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Error lines by their request id (pino JSON). */
function remember(errors: Map<string, string>, line: string): void {
  try {
    const parsed = JSON.parse(line) as { reqId?: string; err?: { stack?: string }; msg?: string };
    errors.set(parsed.reqId ?? `line-${errors.size}`, parsed.err?.stack ?? parsed.msg ?? line);
  } catch {
    errors.set(`line-${errors.size}`, line);
  }
}

/** Fields as `dataset.field` with their categories, as an unlimited caller sees them now. */
async function catalogOf(lethe: Lethe): Promise<CatalogField[]> {
  const systems = await lethe.services.systems.list(LETHE_ITSELF);
  return systems.flatMap((system) =>
    (system.datasets ?? []).flatMap((dataset) =>
      dataset.fields.map((field) => ({
        name: `${dataset.name}.${field.name}`,
        categories: field.categories ?? [],
      })),
    ),
  );
}

/** The demo's subjects (`u-1001`…`u-1005` on the stream, `u-2000`…`u-2299`) and their e-mails. */
function subjectIds(): Set<string> {
  const ids = new Set<string>(['u-1001@example.com']);
  for (let n = 1001; n <= 1005; n += 1) ids.add(`u-${n}`).add(`customer-${n}@example.com`);
  for (let n = 2000; n < 2300; n += 1) ids.add(`u-${n}`).add(`u-${n}@example.com`);
  return ids;
}

/** What the demo lacks for some routes to have something behind them; made as the admin would. */
async function furnish(http: RawHttp, admin: string, port: number): Promise<void> {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await http.send({
      method,
      path,
      headers: {
        authorization: admin,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
    });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body}`);
  };
  await call('PUT', '/v1/connectors/fz-connector', SEEDS['PUT /v1/connectors/{name}']);
  await call('PUT', '/v1/stream-exports/fz-export', SEEDS['PUT /v1/stream-exports/{name}']);
  await call('POST', '/v1/datamap/sources/scrape', {
    name: 'fz-scrape',
    targets: [`http://127.0.0.1:${port}/metrics`],
    interval: 'PT1H',
  });
  for (const [index, [id, steps]] of Object.entries(REQUESTS).entries()) {
    const type = id === 'fz-req-delete' ? 'delete' : 'dsar';
    const identifiers = { subject: `u-${2000 + index}`, email: `u-${2000 + index}@example.com` };
    await call('POST', '/v1/requests', { id, type, identifiers });
    for (const step of steps) {
      await call(
        'POST',
        `/v1/requests/${id}/${step}`,
        step === 'verify-identity' ? { method: 'fz' } : undefined,
      );
    }
  }
}
