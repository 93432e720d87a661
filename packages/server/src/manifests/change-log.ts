import type { ManifestChange, ManifestSection } from '@lethe/api';
import type { Written } from '../datamap/datamap-service.js';
import { AppError } from '../lib/app-error.js';

/** The outcome of each entry as it is applied; a refused entry is named by its place in the manifest. */
export class ChangeLog {
  readonly changes: ManifestChange[] = [];

  /** Runs one entry's write, records its outcome, and names the entry when it is refused. */
  async entry(
    section: ManifestSection,
    name: string,
    path: string,
    write: () => Promise<Pick<Written<unknown>, 'created' | 'changed'> & { value?: unknown }>,
    notes: readonly string[] = [],
  ): Promise<void> {
    let written;
    try {
      written = await write();
    } catch (error) {
      throw located(error, section, name, path);
    }
    const action = written.created ? 'created' : written.changed ? 'changed' : 'unchanged';
    // A created webhook's secret, shown once: the manifest never holds one.
    const secret = section === 'webhooks' && written.created ? secretOf(written.value) : undefined;
    this.changes.push({
      section,
      name,
      action,
      path,
      ...(notes.length > 0 ? { notes: [...notes] } : {}),
      ...(secret !== undefined ? { secret } : {}),
    });
  }

  /** An unlisted entry that prune leaves standing on purpose, with what to do instead. */
  kept(section: ManifestSection, name: string, note: string): void {
    this.changes.push({ section, name, action: 'kept', notes: [note] });
  }

  async removal(section: ManifestSection, name: string, remove: () => Promise<boolean>): Promise<void> {
    try {
      if (await remove()) this.changes.push({ section, name, action: 'removed' });
    } catch (error) {
      throw located(error, section, name, undefined);
    }
  }
}

/** The refusal of one entry, with the entry's place in the manifest added to its details. */
export function located(error: unknown, section: string, name: string, path: string | undefined): unknown {
  if (!(error instanceof AppError)) return error;
  const where = path ?? `${section} ${name} (removal)`;
  return new AppError(error.code, `${where}: ${error.message}`, {
    ...(typeof error.details === 'object' && error.details !== null ? error.details : {}),
    section,
    name,
    ...(path !== undefined ? { path } : {}),
  });
}

function secretOf(value: unknown): string | undefined {
  const secret = (value as { secret?: unknown } | undefined)?.secret;
  return typeof secret === 'string' ? secret : undefined;
}
