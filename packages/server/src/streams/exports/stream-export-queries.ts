import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { StreamExportRow } from './stream-export-tables.js';

/** What an export's runner reports back: where it is and what went wrong last. */
export interface StreamExportProgress {
  readonly position?: number;
  readonly filesWritten?: number;
  /** A message sets the last error; null clears it. */
  readonly lastError?: string | null;
}

/**
 * Privacy-stream exports: configuration, position and the lease of the node that runs each.
 * Reached as `repository.streamExports`, inside the repository's transaction.
 */
export class StreamExportQueries {
  constructor(private readonly db: Kysely<Database>) {}

  list(): Promise<StreamExportRow[]> {
    return this.db.selectFrom('stream_exports').selectAll().orderBy('name').execute();
  }

  /** The position of the export furthest behind; undefined when there is no export. */
  async lowestPosition(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('stream_exports')
      .select((eb) => eb.fn.min('position').as('lowest'))
      .executeTakeFirst();
    return row?.lowest === null || row?.lowest === undefined ? undefined : Number(row.lowest);
  }

  get(name: string): Promise<StreamExportRow | undefined> {
    return this.db.selectFrom('stream_exports').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async insert(row: StreamExportRow): Promise<void> {
    await this.db.insertInto('stream_exports').values(row).execute();
  }

  /** Replaces the configuration columns; position, status and lease stay. */
  async updateConfig(
    row: Pick<
      StreamExportRow,
      | 'name'
      | 'target'
      | 'purposes'
      | 'withheld'
      | 'file_max_bytes'
      | 'file_max_age_seconds'
      | 'nats_subject'
      | 'config_version'
      | 'updated_at'
    >,
  ): Promise<void> {
    const { name, ...config } = row;
    await this.db.updateTable('stream_exports').set(config).where('name', '=', name).execute();
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('stream_exports').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Takes or renews the lease of `name` for `owner` until `until`: granted when the owner holds
   * it already, nobody does, or the holder's lease ended before `now` (compare-and-set, so two
   * nodes never both get it). `takeOver` grants it regardless, for a store no other node shares.
   */
  async claim(name: string, owner: string, now: number, until: number, takeOver = false): Promise<boolean> {
    const result = await this.db
      .updateTable('stream_exports')
      .set({ lease_owner: owner, lease_until: until })
      .where('name', '=', name)
      .where((eb) =>
        takeOver
          ? eb.lit(true)
          : eb.or([
              eb('lease_owner', '=', owner),
              eb('lease_owner', 'is', null),
              eb('lease_until', '<', now),
            ]),
      )
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.db
      .updateTable('stream_exports')
      .set({ lease_owner: null, lease_until: null })
      .where('name', '=', name)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** Records progress if `owner` still holds the lease; false when it does not (stop writing). */
  async recordProgress(
    name: string,
    owner: string,
    progress: StreamExportProgress,
    now: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('stream_exports')
      .set({
        ...(progress.position !== undefined ? { position: progress.position } : {}),
        ...(progress.filesWritten !== undefined ? { files_written: progress.filesWritten } : {}),
        ...(progress.lastError !== undefined
          ? { last_error: progress.lastError, last_error_at: progress.lastError === null ? null : now }
          : {}),
      })
      .where('name', '=', name)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
