import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openKeyedStore } from '../src/auth/key-material.js';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { createLethe, type Lethe } from '../src/server.js';
import { isFieldCiphertext } from '../src/streams/field-crypto.js';
import { createServices } from '../src/services.js';
import { StreamExportRunner } from '../src/streams/exports/stream-export-runner.js';
import { StreamExportService } from '../src/streams/exports/stream-export-service.js';
import type { Store } from '../src/store/store.js';
import { readManifest, type ExportPart } from '../src/streams/exports/export-manifest.js';
import type { ViewedStreamEvent } from '../src/streams/stream-log.js';
import { availableBackends, type Backend } from './support/backends.js';
import { ClickPublisher, publishClicksContract } from './support/click-stream.js';

/**
 * Stream exports through the API on every store backend: configuration, validation, audit,
 * status, the runner picking changes up, and — on PostgreSQL, shared by nodes — one node at a
 * time per export. The stream is the real core: clicks are validated against a published
 * contract, their e-mail address encrypted, and appended to the base stream in the store.
 */

const backends = await availableBackends();

describe.each(backends.map((backend) => [backend.name, backend] as const))(
  'stream exports on %s',
  (_name, backend: Backend) => {
    let location: Awaited<ReturnType<Backend['create']>>;
    let lethe: Lethe;
    let clicks: ClickPublisher;
    let token: string;
    let exportDir: string;

    beforeEach(async () => {
      location = await backend.create({ migrated: true });
      exportDir = join(location.dataDir, 'exports');
      lethe = await createLethe({ ...location, env: {}, exportDir });
      await publishClicksContract(lethe.services);
      clicks = new ClickPublisher(lethe.services.streams);
      token = (await lethe.tokens.mint({ subject: 'exports-admin', role: 'admin', ttlSeconds: 600 })).token;
    });

    afterEach(async () => {
      await lethe.close();
      await location.dispose();
    });

    function call(method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: object) {
      return lethe.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload ? { payload } : {}),
      });
    }

    /** The lines of one listed part of an export. */
    function partLines(name: string, part: ExportPart): ViewedStreamEvent[] {
      return readFileSync(join(exportDir, name, part.name), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as ViewedStreamEvent);
    }

    it('configures a file export, runs it, reports its status, picks up changes and stops on delete', async () => {
      const body = { target: 'file', file: { maxAgeSeconds: 1 } };
      const created = await call('PUT', '/v1/stream-exports/orders', body);
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        name: 'orders',
        target: 'file',
        withheld: 'keep-encrypted',
        file: { maxAgeSeconds: 1 },
        status: { position: 0, lag: 0, filesWritten: 0 },
      });
      expect((await call('PUT', '/v1/stream-exports/orders', body)).statusCode).toBe(200);

      await clicks.append(30);
      const status = await vi.waitFor(
        async () => {
          const response = (await call('GET', '/v1/stream-exports/orders')).json();
          expect(response.status).toMatchObject({ position: 30, lag: 0, filesWritten: 1 });
          return response.status as { runningOn: string; leaseUntil: string };
        },
        { timeout: 10_000, interval: 100 },
      );
      expect(status.runningOn).toMatch(/\//);
      expect(Date.parse(status.leaseUntil)).toBeGreaterThan(Date.now());
      const manifest = await readManifest(join(exportDir, 'orders'), 'orders');
      expect(manifest.position).toBe(30);
      expect(manifest.parts.map((part) => part.count)).toEqual([30]);

      // A change restarts the export with the new view, from its position.
      const changed = await call('PUT', '/v1/stream-exports/orders', {
        target: 'file',
        purposes: ['marketing'],
        file: { maxAgeSeconds: 1 },
      });
      expect(changed.statusCode).toBe(200);
      await clicks.append(5, 'm', ['essential', 'marketing']);
      await clicks.append(5, 'x', ['essential']);
      await vi.waitFor(
        async () => expect((await readManifest(join(exportDir, 'orders'), 'orders')).position).toBe(40),
        { timeout: 10_000, interval: 100 },
      );
      const [first, second] = (await readManifest(join(exportDir, 'orders'), 'orders')).parts;
      expect(second).toMatchObject({ firstSeq: 31, lastSeq: 35, count: 5 });
      // The base stream's part holds the address encrypted; the derived stream for marketing
      // holds only the events consented to marketing, with the address readable.
      expect(partLines('orders', first!).every((event) => isFieldCiphertext(event.data['email']))).toBe(true);
      const derived = partLines('orders', second!);
      expect(derived.map((event) => event.id)).toEqual(['m-31', 'm-32', 'm-33', 'm-34', 'm-35']);
      expect(derived[0]?.data['email']).toBe('person-31@mail.example');

      const list = (await call('GET', '/v1/stream-exports')).json();
      expect(list.items.map((item: { name: string }) => item.name)).toEqual(['orders']);

      expect((await call('DELETE', '/v1/stream-exports/orders')).statusCode).toBe(204);
      await vi.waitFor(() => expect(lethe.services.exportRunner?.runningExports).toEqual([]));
      const gone = await call('GET', '/v1/stream-exports/orders');
      expect(gone.statusCode).toBe(404);
      expect(gone.json().error.code).toBe('STREAM_EXPORT_NOT_FOUND');
      // The files stay: removing an export does not remove what it wrote.
      expect(existsSync(join(exportDir, 'orders', 'manifest.json'))).toBe(true);

      const actions = (await lethe.services.store.repository.audit.entries(0, 1_000))
        .filter((entry) => entry.action.startsWith('stream-export.'))
        .map((entry) => `${entry.action} ${entry.target}`);
      expect(actions).toEqual([
        'stream-export.put stream-export:orders',
        'stream-export.put stream-export:orders',
        'stream-export.delete stream-export:orders',
      ]);
    });

    it('shows the last error while an export cannot write, and clears it once it moves again', async () => {
      await clicks.append(10);
      // A regular file where the export's directory must be made: every start of the export fails.
      mkdirSync(exportDir, { recursive: true });
      const blocker = join(exportDir, 'flaky');
      writeFileSync(blocker, 'not a directory');
      expect(
        (await call('PUT', '/v1/stream-exports/flaky', { target: 'file', file: { maxAgeSeconds: 1 } }))
          .statusCode,
      ).toBe(201);
      const failing = await vi.waitFor(
        async () => {
          const status = (await call('GET', '/v1/stream-exports/flaky')).json().status;
          expect(status.lastError).toMatch(/EEXIST/);
          return status;
        },
        { timeout: 10_000, interval: 20 },
      );
      expect(failing.lastError).toContain(blocker);
      expect(failing.position).toBe(0);
      expect(Date.parse(failing.lastErrorAt)).toBeGreaterThan(Date.now() - 60_000);
      rmSync(blocker);
      const recovered = await vi.waitFor(
        async () => {
          const status = (await call('GET', '/v1/stream-exports/flaky')).json().status;
          expect(status).toMatchObject({ position: 10, filesWritten: 1 });
          expect(status.lastError).toBeUndefined();
          return status;
        },
        { timeout: 20_000, interval: 100 },
      );
      expect(recovered.lastErrorAt).toBeUndefined();
    });

    it('refuses bad configurations with a clear code and stores nothing', async () => {
      const refusals: [object, number, string][] = [
        [{ target: 'nats', nats: { subject: 'lethe.exports.live' } }, 409, 'NATS_NOT_CONFIGURED'],
        [{ target: 'nats' }, 400, 'STREAM_EXPORT_INVALID'],
        [{ target: 'nats', nats: { subject: 'lethe.exports.>' } }, 400, 'STREAM_EXPORT_INVALID'],
        [{ target: 'nats', nats: { subject: 'two words' } }, 400, 'STREAM_EXPORT_INVALID'],
        [{ target: 'file', nats: { subject: 'a.b' } }, 400, 'STREAM_EXPORT_INVALID'],
        [{ target: 'file', purposes: ['a', 'a'] }, 400, 'STREAM_EXPORT_INVALID'],
        [{ target: 'file', purposes: ['telepathy'] }, 400, 'STREAM_EXPORT_INVALID'],
        [{ target: 'ftp' }, 400, 'VALIDATION_FAILED'],
        [{ target: 'file', file: { maxBytes: 10 } }, 400, 'VALIDATION_FAILED'],
        [{ target: 'file', path: '/etc' }, 400, 'VALIDATION_FAILED'],
      ];
      for (const [body, status, code] of refusals) {
        const response = await call('PUT', '/v1/stream-exports/bad', body);
        expect([JSON.stringify(body), response.statusCode, response.json().error.code]).toEqual([
          JSON.stringify(body),
          status,
          code,
        ]);
      }
      expect((await call('GET', '/v1/stream-exports')).json().items).toEqual([]);
      expect((await call('PUT', '/v1/stream-exports/.hidden', { target: 'file' })).statusCode).toBe(400);
      expect(existsSync(join(exportDir, 'bad'))).toBe(false);
    });

    it('grants an export to one node at a time, and fences progress by the lease', async () => {
      const service = new StreamExportService(lethe.services.store, { natsEnabled: false });
      await lethe.services.exportRunner?.stop();
      await service.put(LETHE_ITSELF, 'fenced', { target: 'file' });
      const queries = lethe.services.store.repository.streamExports;
      const claim = (node: string, now: number) =>
        lethe.services.store.transaction((repository) =>
          repository.streamExports.claim('fenced', node, now, now + 1_000),
        );
      expect(await claim('a', 10_000)).toBe(true);
      expect(await claim('b', 10_500)).toBe(false); // a's lease holds until 11,000
      expect(await claim('a', 10_900)).toBe(true); // renewed until 11,900
      expect(await queries.recordProgress('fenced', 'b', { position: 99 }, 11_000)).toBe(false);
      expect(await queries.recordProgress('fenced', 'a', { position: 5 }, 11_000)).toBe(true);
      expect(await claim('b', 12_000)).toBe(true); // a stopped renewing
      expect(await queries.recordProgress('fenced', 'a', { position: 99 }, 12_000)).toBe(false);
      expect((await queries.get('fenced'))?.position).toBe(5);
    });

    it.runIf(backend.name === 'postgres')(
      'runs each export on one node at a time; another takes it over when the holder stops',
      async () => {
        const stores: Store[] = [];
        const runners: StreamExportRunner[] = [];
        try {
          // Two nodes: each its own store connection and its own stream core over the database.
          for (const node of ['node-a', 'node-b']) {
            const { store, masterKey } = await openKeyedStore(location);
            stores.push(store);
            runners.push(
              new StreamExportRunner(store, {
                reader: createServices(store, masterKey).streams,
                exportDir: join(location.dataDir, 'shared-exports'),
                nodeId: node,
                leaseMs: 1_500,
                idleWaitMs: 50,
              }),
            );
          }
          // Only the two runners below compete for the export: lethe's own runner is stopped.
          await lethe.services.exportRunner?.stop();
          const service = new StreamExportService(stores[0]!, { natsEnabled: false });
          await service.put(LETHE_ITSELF, 'shared', { target: 'file', file: { maxAgeSeconds: 1 } });
          await clicks.append(50);
          for (const runner of runners) runner.start(200);

          const holder = await vi.waitFor(
            () => {
              const holders = runners.filter((runner) => runner.runningExports.includes('shared'));
              expect(holders).toHaveLength(1);
              return holders[0]!;
            },
            { timeout: 5_000, interval: 50 },
          );
          // Several lease periods later, still only one.
          for (let check = 0; check < 10; check += 1) {
            await new Promise((resolve) => setTimeout(resolve, 300));
            expect(runners.filter((runner) => runner.runningExports.includes('shared'))).toEqual([holder]);
          }
          await holder.stop();
          const other = runners.find((runner) => runner !== holder)!;
          await vi.waitFor(() => expect(other.runningExports).toEqual(['shared']), { timeout: 5_000 });
          await clicks.append(25);
          const dir = join(location.dataDir, 'shared-exports', 'shared');
          await vi.waitFor(async () => expect((await readManifest(dir, 'shared')).position).toBe(75), {
            timeout: 10_000,
            interval: 100,
          });
          const manifest = await readManifest(dir, 'shared');
          expect(manifest.parts.reduce((sum, part) => sum + part.count, 0)).toBe(75);
          expect(readdirSync(dir).filter((file) => file.endsWith('.tmp'))).toEqual([]);
        } finally {
          for (const runner of runners) await runner.stop();
          for (const store of stores) await store.close();
        }
      },
    );
  },
);
