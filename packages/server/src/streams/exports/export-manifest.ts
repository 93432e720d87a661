import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** One finished part of a file export: an NDJSON file, one viewed event per line. */
export interface ExportPart {
  /** `part-<firstSeq, 12 digits>.ndjson`: sorts in stream order. */
  readonly name: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly count: number;
  readonly bytes: number;
  /** Hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  /** ISO 8601: when the part was finished. */
  readonly createdAt: string;
}

/**
 * `manifest.json` of a file export: the parts, in order, and the position in the base stream up
 * to which they hold every viewed event. It is the source of truth: a part on disk that it does
 * not list does not exist, and the export resumes after `position`.
 */
export interface ExportManifest {
  readonly export: string;
  readonly position: number;
  readonly parts: readonly ExportPart[];
  /** ISO 8601: when the manifest was last written. */
  readonly updatedAt: string;
}

export const MANIFEST_FILE = 'manifest.json';

export function partName(firstSeq: number): string {
  return `part-${String(firstSeq).padStart(12, '0')}.ndjson`;
}

/** The manifest in `dir`, or an empty one at position 0 when none was written yet. */
export async function readManifest(dir: string, exportName: string): Promise<ExportManifest> {
  try {
    return JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as ExportManifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return { export: exportName, position: 0, parts: [], updatedAt: new Date(0).toISOString() };
  }
}

/**
 * Replaces `manifest.json` atomically: written to a temporary file, fsynced, renamed over the
 * old one, then the directory fsynced so the rename itself survives a power loss. A reader sees
 * the old manifest or the new one, never a mix.
 */
export async function writeManifest(dir: string, manifest: ExportManifest): Promise<void> {
  const temporary = join(dir, `${MANIFEST_FILE}.tmp`);
  await writeDurably(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temporary, join(dir, MANIFEST_FILE));
  await syncDirectory(dir);
}

async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a directory: makes the names created or renamed in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
