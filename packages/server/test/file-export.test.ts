import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readManifest, type ExportManifest } from '../src/streams/exports/export-manifest.js';
import { ExportLoop } from '../src/streams/exports/export-loop.js';
import {
  FileExportSink,
  type FileExportCrashPoint,
  type FileExportSettings,
} from '../src/streams/exports/file-export-sink.js';
import type { StreamService } from '../src/streams/stream-service.js';
import type { StreamView, ViewedStreamEvent } from '../src/streams/stream-log.js';
import { openServices, SQLITE_BACKEND } from './support/backends.js';
import { ClickPublisher, publishClicksContract } from './support/click-stream.js';

/**
 * File exports on a real file system, reading the real base stream (a SQLite store, clicks
 * validated against their contract and encrypted): rotation by size and by time, parts that are
 * whole or absent, a manifest that matches the files, and restarts — including crashes between
 * the rename of a part and the manifest — that leave every event in exactly one listed part.
 */

let dir: string;
let streams: StreamService;
let clicks: ClickPublisher;
let disposeServices: () => Promise<void>;
const loops: ExportLoop[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lethe-file-export-'));
  const opened = await openServices(SQLITE_BACKEND);
  disposeServices = opened.dispose;
  streams = opened.services.streams;
  await publishClicksContract(opened.services);
  clicks = new ClickPublisher(streams);
});

afterEach(async () => {
  for (const loop of loops.splice(0)) await loop.stop();
  await disposeServices();
  rmSync(dir, { recursive: true, force: true });
});

function startExport(
  settings: FileExportSettings,
  options: { view?: StreamView; crashAt?: FileExportCrashPoint; pageSize?: number } = {},
) {
  const errors: unknown[] = [];
  const sink = new FileExportSink(
    dir,
    'orders',
    settings,
    options.crashAt ? { crashAt: options.crashAt } : {},
  );
  const loop = new ExportLoop(streams, options.view ?? {}, sink, {
    pageSize: options.pageSize ?? 500,
    idleWaitMs: 50,
    onError: (error) => {
      errors.push(error);
      // A crash ends the process: nothing more happens until the next start.
      void loop.stop();
    },
  });
  loop.start();
  loops.push(loop);
  return { loop, sink, errors };
}

/**
 * The manifest, the listed parts' lines in order, the length of each part's last line, and the
 * files in the directory.
 */
async function readExport() {
  const manifest = await readManifest(dir, 'orders');
  const lines: ViewedStreamEvent[] = [];
  const lastLineBytes: number[] = [];
  for (const part of manifest.parts) {
    const bytes = readFileSync(join(dir, part.name));
    expect(bytes.length).toBe(part.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(part.sha256);
    const text = bytes
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '');
    lastLineBytes.push(Buffer.byteLength(`${text.at(-1) ?? ''}\n`));
    const partLines = text.map((line) => JSON.parse(line) as ViewedStreamEvent);
    expect(partLines).toHaveLength(part.count);
    expect(partLines[0]?.seq).toBe(part.firstSeq);
    expect(partLines.at(-1)?.seq).toBe(part.lastSeq);
    lines.push(...partLines);
  }
  return { manifest, lastLineBytes, ids: lines.map((line) => line.id), files: readdirSync(dir).sort() };
}

function ids(from: number, to: number, prefix = 'e') {
  return Array.from({ length: to - from + 1 }, (_, n) => `${prefix}-${from + n}`);
}

async function waitForPosition(position: number): Promise<ExportManifest> {
  return vi.waitFor(
    async () => {
      const manifest = await readManifest(dir, 'orders');
      expect(manifest.position).toBe(position);
      return manifest;
    },
    { timeout: 10_000, interval: 25 },
  );
}

describe('file exports', () => {
  it('rotates by size: parts in order, each whole, the manifest matching the bytes on disk', async () => {
    await clicks.append(200);
    startExport({ maxBytes: 4_000, maxAgeMs: 200 }, { pageSize: 64 });
    const manifest = await waitForPosition(200);
    const exported = await readExport();
    expect(exported.ids).toEqual(ids(1, 200));
    expect(manifest.parts.length).toBeGreaterThan(3);
    // Every part but the last was cut by size: it passed maxBytes with its last line, not before.
    manifest.parts.slice(0, -1).forEach((part, index) => {
      expect(part.bytes).toBeGreaterThanOrEqual(4_000);
      expect(part.bytes - exported.lastLineBytes[index]!).toBeLessThan(4_000);
    });
    expect(manifest.parts.map((part) => part.name)).toEqual(
      manifest.parts.map((part) => `part-${String(part.firstSeq).padStart(12, '0')}.ndjson`),
    );
    expect(exported.files).toEqual([...manifest.parts.map((part) => part.name), 'manifest.json'].sort());
  });

  it('rotates by time, also when no more events come', async () => {
    startExport({ maxBytes: 1 << 30, maxAgeMs: 300 });
    await clicks.append(5);
    // Nothing is listed while the part is young: it is still a .tmp file.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await readManifest(dir, 'orders')).parts).toEqual([]);
    expect(readdirSync(dir)).toEqual(['part-000000000001.ndjson.tmp']);
    await waitForPosition(5);
    await clicks.append(3);
    const manifest = await waitForPosition(8);
    expect(manifest.parts.map((part) => [part.firstSeq, part.lastSeq, part.count])).toEqual([
      [1, 5, 5],
      [6, 8, 3],
    ]);
    expect((await readExport()).ids).toEqual(ids(1, 8));
  });

  it.each<FileExportCrashPoint>(['after-part-rename', 'after-manifest-written'])(
    'resumes after a crash %s with no line missing and none twice',
    async (crashAt) => {
      await clicks.append(120);
      const crashed = startExport({ maxBytes: 3_000, maxAgeMs: 60_000 }, { crashAt, pageSize: 40 });
      await vi.waitFor(() => expect(crashed.errors).toHaveLength(1), { timeout: 10_000 });
      await crashed.loop.stop();
      const before = await readExport();
      if (crashAt === 'after-part-rename') {
        // The renamed part is on disk but not in the manifest: it does not count.
        expect(before.manifest.parts).toEqual([]);
        expect(before.files).toContain('part-000000000001.ndjson');
      } else {
        expect(before.manifest.parts).toHaveLength(1);
      }

      await clicks.append(30);
      startExport({ maxBytes: 3_000, maxAgeMs: 200 }, { pageSize: 40 });
      const manifest = await waitForPosition(150);
      const after = await readExport();
      expect(after.ids).toEqual(ids(1, 150));
      expect(after.files).toEqual([...manifest.parts.map((part) => part.name), 'manifest.json'].sort());
    },
  );

  it('restarts cleanly with a part half written: the .tmp is dropped and its events written again', async () => {
    await clicks.append(10);
    const first = startExport({ maxBytes: 1 << 30, maxAgeMs: 60_000 });
    await vi.waitFor(() => expect(readdirSync(dir)).toContain('part-000000000001.ndjson.tmp'));
    await first.loop.stop();
    expect((await readManifest(dir, 'orders')).position).toBe(0);

    startExport({ maxBytes: 1 << 30, maxAgeMs: 200 });
    await waitForPosition(10);
    expect((await readExport()).ids).toEqual(ids(1, 10));
  });

  it('exports a derived view: only events whose consent covers its purposes, position past the rest', async () => {
    await clicks.append(4, 'ok', ['essential', 'marketing']);
    await clicks.append(3, 'no', ['essential']);
    startExport({ maxBytes: 1 << 30, maxAgeMs: 100 }, { view: { purposes: ['marketing'] } });
    const manifest = await waitForPosition(7);
    expect((await readExport()).ids).toEqual(ids(1, 4, 'ok'));
    expect(manifest.parts).toHaveLength(1);
  });
});
