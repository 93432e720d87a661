import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { ContractRow, StreamEventRow } from './stream-tables.js';

/** An event to append: everything but its position, which the append assigns. */
export type NewStreamEvent = Omit<StreamEventRow, 'seq'>;

/** Rows per insert statement: well under both backends' limits on bound parameters. */
const INSERT_CHUNK = 500;

/**
 * Privacy streams in the store: data contract versions and the base stream of events.
 * Reached as `repository.streams`, inside the repository's transaction.
 */
export class StreamQueries {
  constructor(private readonly db: Kysely<Database>) {}

  // Contracts ---------------------------------------------------------------------------------

  /** Inserts a contract version unless that version exists; true when this row was inserted. */
  async insertContract(row: ContractRow): Promise<boolean> {
    const result = await this.db
      .insertInto('contracts')
      .values(row)
      .onConflict((oc) => oc.columns(['name', 'version']).doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  getContract(name: string, version: number): Promise<ContractRow | undefined> {
    return this.db
      .selectFrom('contracts')
      .selectAll()
      .where('name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
  }

  /** Every version of `name`, oldest first. */
  contractVersions(name: string): Promise<ContractRow[]> {
    return this.db.selectFrom('contracts').selectAll().where('name', '=', name).orderBy('version').execute();
  }

  /** Every version of every contract, by name then version. */
  allContracts(): Promise<ContractRow[]> {
    return this.db.selectFrom('contracts').selectAll().orderBy('name').orderBy('version').execute();
  }

  // The base stream ---------------------------------------------------------------------------

  /**
   * Appends `events` in order; run it in the caller's transaction. Returns the indexes of events
   * whose id is already in the stream (or earlier in `events`): those are not appended.
   *
   * Positions are taken from the `stream_head` row while its row lock is held to the end of the
   * transaction, so a second appender waits for the first to commit before it gets a position:
   * positions become visible in the order they were given, and a reader that has seen position
   * n never sees a smaller one appear later. A sequence would not do that on PostgreSQL (values
   * are handed out before commit, a slow transaction commits 10 after 11 is read), and an
   * exporter reading after 11 would skip 10 for ever. The price is that appends are serialised;
   * each holds the lock for one batch insert. On SQLite every write is serialised anyway.
   */
  async append(events: readonly NewStreamEvent[]): Promise<{ duplicates: number[]; lastSeq: number }> {
    const head = await this.db
      .updateTable('stream_head')
      .set((eb) => ({ seq: eb.ref('seq') }))
      .where('id', '=', 1)
      .returning('seq')
      .executeTakeFirstOrThrow();
    let seq = Number(head.seq);
    // Under the lock no other appender can add one of these ids before we insert.
    const seen = await this.existingIds(events.map((event) => event.id));
    const duplicates: number[] = [];
    const rows: StreamEventRow[] = [];
    events.forEach((event, index) => {
      if (seen.has(event.id)) {
        duplicates.push(index);
        return;
      }
      seen.add(event.id);
      seq += 1;
      rows.push({ seq, ...event });
    });
    for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
      await this.db
        .insertInto('stream_events')
        .values(rows.slice(start, start + INSERT_CHUNK))
        .execute();
    }
    if (rows.length > 0) {
      await this.db.updateTable('stream_head').set({ seq }).where('id', '=', 1).execute();
    }
    return { duplicates, lastSeq: seq };
  }

  /** Which of `ids` are in the stream already. */
  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let start = 0; start < ids.length; start += INSERT_CHUNK) {
      const rows = await this.db
        .selectFrom('stream_events')
        .select('id')
        .where('id', 'in', ids.slice(start, start + INSERT_CHUNK))
        .execute();
      for (const row of rows) found.add(row.id);
    }
    return found;
  }

  /** Up to `limit` events after position `afterSeq`, in order. */
  eventsAfter(afterSeq: number, limit: number): Promise<StreamEventRow[]> {
    return this.db
      .selectFrom('stream_events')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  /**
   * Deletes events whose time is before `before`, none past position `upToSeq` when given;
   * returns how many went.
   */
  async deleteBefore(before: number, upToSeq: number | undefined): Promise<number> {
    let query = this.db.deleteFrom('stream_events').where('at', '<', before);
    if (upToSeq !== undefined) query = query.where('seq', '<=', upToSeq);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The last position given out (0 for an empty stream). */
  async lastSeq(): Promise<number> {
    const row = await this.db
      .selectFrom('stream_head')
      .select('seq')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return Number(row.seq);
  }
}
