import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  partName,
  readManifest,
  syncDirectory,
  writeManifest,
  type ExportManifest,
  type ExportPart,
} from './export-manifest.js';
import type { ExportSink } from './export-sink.js';
import type { StreamPage } from '../stream-log.js';

export interface FileExportSettings {
  /** A part is finished once it holds this many bytes (default 64 MiB). */
  readonly maxBytes: number;
  /** …or once it is this old, even when no more events come (default 5 minutes). */
  readonly maxAgeMs: number;
}

export const DEFAULT_FILE_EXPORT_SETTINGS: FileExportSettings = {
  maxBytes: 64 * 1024 * 1024,
  maxAgeMs: 5 * 60_000,
};

/** Where a test stops the sink as if the process died there. */
export type FileExportCrashPoint = 'after-part-rename' | 'after-manifest-written';

export interface FileExportOptions {
  readonly now?: () => number;
  /** Told the new manifest after every part, so the export's status can follow. */
  readonly onManifest?: (manifest: ExportManifest) => void | Promise<void>;
  /** Tests only: throw at this step, leaving the files as a crash there would. */
  readonly crashAt?: FileExportCrashPoint;
}

const PART_PATTERN = /^part-\d{12}\.ndjson(\.tmp)?$/;

/** The part being written: `<name>.tmp` until it is finished. */
interface OpenPart {
  readonly name: string;
  readonly handle: FileHandle;
  readonly hash: Hash;
  readonly firstSeq: number;
  readonly startedAt: number;
  /** The last event written. */
  lastSeq: number;
  /** The position read up to: past `lastSeq` when a derived view left later events out. */
  coveredSeq: number;
  count: number;
  bytes: number;
}

/**
 * A file export: NDJSON parts in `<exportDir>/<name>/`, each written as `*.ndjson.tmp` and
 * finished (fsync, atomic rename to `part-<firstSeq>.ndjson`) when it reaches `maxBytes` or
 * `maxAgeMs`; then `manifest.json` is rewritten atomically with the part and the new position.
 *
 * The manifest is the only record of progress. After a crash, `open` deletes every part file it
 * does not list (a half-written `.tmp`, or a part renamed just before the crash) and the export
 * resumes after the manifest's position, so those events are written again exactly once: no
 * line is ever missing or in two listed parts.
 */
export class FileExportSink implements ExportSink {
  private manifest: ExportManifest | undefined;
  private part: OpenPart | undefined;
  /** Position read past with no part open (a derived view left those events out). */
  private passed = 0;
  private readonly now: () => number;

  constructor(
    readonly dir: string,
    private readonly exportName: string,
    private readonly settings: FileExportSettings = DEFAULT_FILE_EXPORT_SETTINGS,
    private readonly options: FileExportOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async open(): Promise<number> {
    await mkdir(this.dir, { recursive: true });
    const manifest = await readManifest(this.dir, this.exportName);
    const listed = new Set(manifest.parts.map((part) => part.name));
    for (const file of await readdir(this.dir)) {
      if (PART_PATTERN.test(file) && !listed.has(file)) await rm(join(this.dir, file));
    }
    this.manifest = manifest;
    this.passed = manifest.position;
    return manifest.position;
  }

  async write(page: StreamPage): Promise<void> {
    for (const event of page.events) {
      const line = Buffer.from(`${JSON.stringify(event)}\n`);
      const part = this.part ?? (await this.startPart(event.seq));
      await part.handle.write(line);
      part.hash.update(line);
      part.bytes += line.length;
      part.count += 1;
      part.lastSeq = event.seq;
      part.coveredSeq = event.seq;
      // Cut inside the page: the part covers up to this event, the rest goes to the next one.
      if (part.bytes >= this.settings.maxBytes) await this.finishPart();
    }
    if (this.part) this.part.coveredSeq = Math.max(this.part.coveredSeq, page.lastSeq);
    this.passed = Math.max(this.passed, page.lastSeq);
    if (this.part && this.now() - this.part.startedAt >= this.settings.maxAgeMs) await this.finishPart();
  }

  /**
   * Finishes a part that has reached its age, and records a position a derived view moved past
   * without events, so a restart does not read those again.
   */
  async idle(): Promise<void> {
    if (this.part) {
      if (this.now() - this.part.startedAt >= this.settings.maxAgeMs) await this.finishPart();
      return;
    }
    const manifest = this.requireOpen();
    if (this.passed > manifest.position) await this.saveManifest({ ...manifest, position: this.passed });
  }

  /** Leaves the part being written unfinished: it is deleted and written again after `open`. */
  async close(): Promise<void> {
    await this.part?.handle.close();
    this.part = undefined;
  }

  /** Files finished so far, for the export's status. */
  get parts(): readonly ExportPart[] {
    return this.manifest?.parts ?? [];
  }

  private async startPart(firstSeq: number): Promise<OpenPart> {
    const name = partName(firstSeq);
    const handle = await open(join(this.dir, `${name}.tmp`), 'w');
    this.part = {
      name,
      handle,
      hash: createHash('sha256'),
      firstSeq,
      startedAt: this.now(),
      lastSeq: firstSeq,
      coveredSeq: firstSeq,
      count: 0,
      bytes: 0,
    };
    return this.part;
  }

  /** fsync, rename into place, fsync the directory, then the manifest with the new position. */
  private async finishPart(): Promise<void> {
    const part = this.part;
    if (!part) return;
    this.part = undefined;
    await part.handle.sync();
    await part.handle.close();
    await rename(join(this.dir, `${part.name}.tmp`), join(this.dir, part.name));
    await syncDirectory(this.dir);
    this.crashIf('after-part-rename');
    const manifest = this.requireOpen();
    const finished: ExportPart = {
      name: part.name,
      firstSeq: part.firstSeq,
      lastSeq: part.lastSeq,
      count: part.count,
      bytes: part.bytes,
      sha256: part.hash.digest('hex'),
      createdAt: new Date(this.now()).toISOString(),
    };
    await this.saveManifest({
      ...manifest,
      position: Math.max(manifest.position, part.coveredSeq),
      parts: [...manifest.parts, finished],
    });
    this.crashIf('after-manifest-written');
  }

  private async saveManifest(next: Omit<ExportManifest, 'updatedAt'>): Promise<void> {
    const manifest = { ...next, updatedAt: new Date(this.now()).toISOString() };
    await writeManifest(this.dir, manifest);
    this.manifest = manifest;
    await this.options.onManifest?.(manifest);
  }

  private requireOpen(): ExportManifest {
    if (!this.manifest) throw new Error('the file export sink is not open');
    return this.manifest;
  }

  private crashIf(point: FileExportCrashPoint): void {
    if (this.options.crashAt === point) throw new Error(`simulated crash ${point}`);
  }
}
