import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { WithheldMode } from '../field-crypto.js';
import type { StreamExportRow } from './stream-export-tables.js';
import type { StreamExportProgress } from './stream-export-queries.js';
import type { Store } from '../../store/store.js';
import { ExportLoop } from './export-loop.js';
import type { ExportSink } from './export-sink.js';
import { DEFAULT_FILE_EXPORT_SETTINGS, FileExportSink } from './file-export-sink.js';
import { NatsExportSink } from './nats-export-sink.js';
import type { StreamReader, StreamView } from '../stream-log.js';

export interface StreamExportRunnerOptions {
  readonly reader: StreamReader;
  /** File exports go to `<exportDir>/<export name>/`. */
  readonly exportDir: string;
  /** For NATS exports; without it they record an error instead of running. */
  readonly nats?: NatsConnection;
  /** How long a node's claim on an export lasts unless renewed (default 15 s; renewed every tick). */
  readonly leaseMs?: number;
  readonly now?: () => number;
  /** This node's name in leases (default `<hostname>/<random>`, new for every process). */
  readonly nodeId?: string;
  readonly pageSize?: number;
  readonly idleWaitMs?: number;
  readonly log?: (message: string, error?: unknown) => void;
}

/** An export running on this node, and the configuration it was started with. */
interface RunningExport {
  readonly loop: ExportLoop;
  readonly configVersion: number;
  /** Whether the last thing recorded for it was an error, so that progress clears it once. */
  failing: boolean;
}

const DEFAULT_LEASE_MS = 15_000;

/**
 * Runs every configured export, one `ExportLoop` each. Each tick it claims or renews a lease per
 * export in the store (compare-and-set), so that on a store shared by several nodes only one node
 * runs an export at a time; a node that stops renewing (crash, partition) loses the export to
 * another when the lease ends. A node that fails to renew stops its loop, and every position
 * write is fenced by the lease too. An export whose configuration changed is restarted, a
 * deleted one stopped. On a store no other node shares, leases left by this process's previous
 * life are taken over at once.
 */
export class StreamExportRunner {
  private readonly running = new Map<string, RunningExport>();
  private readonly nodeId: string;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly options: StreamExportRunnerOptions,
  ) {
    this.nodeId = options.nodeId ?? `${hostname()}/${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.now = options.now ?? Date.now;
  }

  /** Ticks every `intervalMs` (at most a third of the lease, so a lease is renewed in time). */
  start(intervalMs = 1_000): void {
    this.stopped = false;
    this.timer ??= setInterval(() => this.wake(), Math.min(intervalMs, this.leaseMs / 3));
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await Promise.all([...this.running.keys()].map((name) => this.stopExport(name, true)));
  }

  /** A tick now, or right after the one under way (after a change through the API). */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((error: unknown) => this.options.log?.('stream export runner', error))
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** The exports this node runs now. */
  get runningExports(): string[] {
    return [...this.running.keys()].sort();
  }

  private async tick(): Promise<void> {
    const rows = await this.store.repository.streamExports.list();
    const configured = new Set(rows.map((row) => row.name));
    for (const name of this.running.keys()) if (!configured.has(name)) await this.stopExport(name, false);
    for (const row of rows) {
      if (this.stopped) return;
      const now = this.now();
      const mine = await this.store.transaction((repository) =>
        repository.streamExports.claim(
          row.name,
          this.nodeId,
          now,
          now + this.leaseMs,
          !this.store.capabilities.shared,
        ),
      );
      const current = this.running.get(row.name);
      if (!mine) {
        if (current) await this.stopExport(row.name, false);
        continue;
      }
      if (current?.configVersion === row.config_version) continue;
      if (current) await this.stopExport(row.name, false);
      this.startExport(row);
    }
  }

  private startExport(row: StreamExportRow): void {
    const sink = this.sinkFor(row);
    if (!sink) {
      this.recordInBackground(row.name, {
        lastError: 'NATS is not configured on the node that holds this export',
      });
      return;
    }
    const entry: RunningExport = {
      configVersion: row.config_version,
      failing: false,
      loop: new ExportLoop(this.options.reader, viewOf(row), sink, {
        ...(this.options.pageSize !== undefined ? { pageSize: this.options.pageSize } : {}),
        ...(this.options.idleWaitMs !== undefined ? { idleWaitMs: this.options.idleWaitMs } : {}),
        onError: (error) => {
          entry.failing = true;
          this.options.log?.(`stream export ${row.name} failed; retrying`, error);
          this.recordInBackground(row.name, {
            lastError: error instanceof Error ? error.message : String(error),
          });
        },
        onProgress: () => {
          if (!entry.failing) return;
          entry.failing = false;
          this.recordInBackground(row.name, { lastError: null });
        },
      }),
    };
    this.running.set(row.name, entry);
    entry.loop.start();
  }

  private sinkFor(row: StreamExportRow): ExportSink | undefined {
    if (row.target === 'file') {
      return new FileExportSink(
        join(this.options.exportDir, row.name),
        row.name,
        {
          maxBytes: row.file_max_bytes ?? DEFAULT_FILE_EXPORT_SETTINGS.maxBytes,
          maxAgeMs:
            row.file_max_age_seconds !== null
              ? row.file_max_age_seconds * 1000
              : DEFAULT_FILE_EXPORT_SETTINGS.maxAgeMs,
        },
        {
          now: this.now,
          // The manifest rules the position; the row mirrors it for the status. A node that lost
          // the export stops here, after at most the part it had just finished.
          onManifest: async (manifest) => {
            const held = await this.record(row.name, {
              position: manifest.position,
              filesWritten: manifest.parts.length,
            });
            if (!held) throw new Error('this node no longer holds the export (lease lost or export deleted)');
          },
        },
      );
    }
    if (!this.options.nats || row.nats_subject === null) return undefined;
    return new NatsExportSink(this.options.nats, row.name, row.nats_subject, {
      load: async () => (await this.store.repository.streamExports.get(row.name))?.position ?? 0,
      save: async (position) => {
        if (!(await this.record(row.name, { position }))) {
          throw new Error('this node no longer holds the export (lease lost or export deleted)');
        }
      },
    });
  }

  private async stopExport(name: string, release: boolean): Promise<void> {
    const entry = this.running.get(name);
    this.running.delete(name);
    await entry?.loop.stop();
    if (release) {
      await this.store
        .transaction((repository) => repository.streamExports.release(name, this.nodeId))
        .catch((error: unknown) => this.options.log?.(`stream export ${name}: lease not released`, error));
    }
  }

  private recordInBackground(name: string, progress: StreamExportProgress): void {
    this.record(name, progress).catch((error: unknown) =>
      this.options.log?.(`stream export ${name}: status not recorded`, error),
    );
  }

  /** Progress or an error, if this node still holds the export. */
  private record(name: string, progress: StreamExportProgress): Promise<boolean> {
    return this.store.transaction((repository) =>
      repository.streamExports.recordProgress(name, this.nodeId, progress, this.now()),
    );
  }
}

function viewOf(row: StreamExportRow): StreamView {
  return {
    ...(row.purposes !== null ? { purposes: JSON.parse(row.purposes) as string[] } : {}),
    withheld: row.withheld as WithheldMode,
  };
}
