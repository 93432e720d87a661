import type { StreamExport, StreamExportInput } from '@lethe/api';
import { authorize } from '../../auth/permissions.js';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../lib/app-error.js';
import { toIso } from '../../lib/time.js';
import type { StreamExportRow } from './stream-export-tables.js';
import type { Store } from '../../store/store.js';
import { audit } from '../../audit/audit-trail.js';
import type { Written } from '../../datamap/datamap-service.js';

/** The last position of the base stream, for an export's lag. */
export type StreamHead = () => Promise<number>;

export interface StreamExportServiceOptions {
  /** Whether this server has NATS (`NATS_URL`): a NATS export cannot run without it. */
  readonly natsEnabled: boolean;
  readonly head?: StreamHead;
  /** Called after a change, so the runner picks it up now rather than at its next tick. */
  readonly onChange?: () => void;
  /** Whether `key` is in the purpose taxonomy: a derived export for an unknown purpose is refused. */
  readonly isPurpose?: (key: string) => Promise<boolean>;
  /** Whether a JetStream stream captures `subject`: publishing elsewhere would never be stored. */
  readonly isCaptured?: (subject: string) => Promise<boolean>;
}

/** A literal NATS subject: dot-separated tokens without wildcards or whitespace. */
const LITERAL_SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/**
 * Exports of privacy streams, configured by API and kept in the store; `StreamExportRunner`
 * carries them out. Changing an export keeps its position: it goes on from where it was with
 * the new settings (a new view applies to events after it).
 */
export class StreamExportService {
  constructor(
    private readonly store: Store,
    private readonly options: StreamExportServiceOptions,
  ) {}

  async list(principal: Principal): Promise<StreamExport[]> {
    authorize(principal, 'stream-exports:read');
    const rows = await this.store.repository.streamExports.list();
    const head = await this.headOrUndefined();
    return rows.map((row) => streamExportRowToApi(row, head));
  }

  async get(principal: Principal, name: string): Promise<StreamExport> {
    authorize(principal, 'stream-exports:read');
    const row = await this.store.repository.streamExports.get(name);
    if (!row) throw new AppError('STREAM_EXPORT_NOT_FOUND', `No stream export named "${name}".`);
    return streamExportRowToApi(row, await this.headOrUndefined());
  }

  async put(principal: Principal, name: string, input: StreamExportInput): Promise<Written<StreamExport>> {
    authorize(principal, 'stream-exports:write');
    this.validate(input);
    await this.checkAgainstTheWorld(input);
    const now = Date.now();
    const config = {
      target: input.target,
      purposes: input.purposes ? JSON.stringify(input.purposes) : null,
      withheld: input.withheld ?? 'keep-encrypted',
      file_max_bytes: input.file?.maxBytes ?? null,
      file_max_age_seconds: input.file?.maxAgeSeconds ?? null,
      nats_subject: input.nats?.subject ?? null,
    };
    const written = await this.store.transaction(async (repository) => {
      const previous = await repository.streamExports.get(name);
      if (previous && sameConfig(previous, config)) return { row: previous, created: false, changed: false };
      const row: StreamExportRow = previous
        ? { ...previous, ...config, config_version: previous.config_version + 1, updated_at: now }
        : {
            name,
            ...config,
            config_version: 1,
            position: 0,
            files_written: 0,
            last_error: null,
            last_error_at: null,
            lease_owner: null,
            lease_until: null,
            created_at: now,
            updated_at: now,
          };
      if (previous) await repository.streamExports.updateConfig(row);
      else await repository.streamExports.insert(row);
      await audit(repository, principal, 'stream-export.put', `stream-export:${name}`);
      return { row, created: !previous, changed: true };
    });
    if (written.changed) this.options.onChange?.();
    return {
      value: streamExportRowToApi(written.row, await this.headOrUndefined()),
      created: written.created,
      changed: written.changed,
    };
  }

  async remove(principal: Principal, name: string): Promise<void> {
    authorize(principal, 'stream-exports:write');
    await this.store.transaction(async (repository) => {
      if (!(await repository.streamExports.delete(name))) {
        throw new AppError('STREAM_EXPORT_NOT_FOUND', `No stream export named "${name}".`);
      }
      await audit(repository, principal, 'stream-export.delete', `stream-export:${name}`);
    });
    this.options.onChange?.();
  }

  private validate(input: StreamExportInput): void {
    const invalid = (path: string, message: string) => {
      throw new AppError('STREAM_EXPORT_INVALID', `${path}: ${message}`, { path });
    };
    if (input.target === 'file' && input.nats) invalid('/nats', 'a file export takes no nats settings');
    if (input.target === 'nats') {
      if (input.file) invalid('/file', 'a NATS export takes no file settings');
      if (!input.nats) invalid('/nats', 'a NATS export needs nats.subject');
      if (!LITERAL_SUBJECT.test(input.nats!.subject)) {
        invalid('/nats/subject', 'a literal subject: dot-separated tokens, no wildcards or whitespace');
      }
      if (!this.options.natsEnabled) {
        throw new AppError('NATS_NOT_CONFIGURED', 'Set NATS_URL on the server to run NATS exports.');
      }
    }
    if (input.purposes && new Set(input.purposes).size !== input.purposes.length) {
      invalid('/purposes', 'a purpose is listed twice');
    }
  }

  /** What the input names must exist: its purposes in the taxonomy, its NATS subject in a stream. */
  private async checkAgainstTheWorld(input: StreamExportInput): Promise<void> {
    const { isPurpose, isCaptured } = this.options;
    for (const purpose of input.purposes ?? []) {
      if (isPurpose && !(await isPurpose(purpose))) {
        throw new AppError('STREAM_EXPORT_INVALID', `/purposes: "${purpose}" is not a purpose key`, {
          path: '/purposes',
        });
      }
    }
    const subject = input.nats?.subject;
    if (subject !== undefined && isCaptured && !(await isCaptured(subject))) {
      throw new AppError(
        'STREAM_EXPORT_INVALID',
        `/nats/subject: no JetStream stream captures "${subject}"; add it to a stream (e.g. LETHE_EXPORTS on lethe.exports.>)`,
        { path: '/nats/subject' },
      );
    }
  }

  /** The lag is a convenience: a stream that cannot say its head does not fail the status. */
  private async headOrUndefined(): Promise<number | undefined> {
    return this.options.head ? this.options.head() : undefined;
  }
}

function sameConfig(row: StreamExportRow, config: Partial<StreamExportRow>): boolean {
  return (Object.keys(config) as (keyof StreamExportRow)[]).every((key) => row[key] === config[key]);
}

export function streamExportRowToApi(row: StreamExportRow, head: number | undefined): StreamExport {
  return {
    name: row.name,
    target: row.target as StreamExport['target'],
    ...(row.purposes !== null ? { purposes: JSON.parse(row.purposes) as string[] } : {}),
    withheld: row.withheld as 'keep-encrypted' | 'drop',
    ...(row.target === 'file'
      ? {
          file: {
            ...(row.file_max_bytes !== null ? { maxBytes: row.file_max_bytes } : {}),
            ...(row.file_max_age_seconds !== null ? { maxAgeSeconds: row.file_max_age_seconds } : {}),
          },
        }
      : {}),
    ...(row.nats_subject !== null ? { nats: { subject: row.nats_subject } } : {}),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    status: {
      position: row.position,
      ...(head !== undefined ? { lag: Math.max(0, head - row.position) } : {}),
      filesWritten: row.files_written,
      ...(row.last_error !== null ? { lastError: row.last_error } : {}),
      ...(row.last_error_at !== null ? { lastErrorAt: toIso(row.last_error_at) } : {}),
      ...(row.lease_owner !== null ? { runningOn: row.lease_owner } : {}),
      ...(row.lease_until !== null ? { leaseUntil: toIso(row.lease_until) } : {}),
    },
  };
}
