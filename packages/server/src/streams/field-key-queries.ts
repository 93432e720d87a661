import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { FieldKeyRow, FieldKeyTombstoneRow } from './stream-tables.js';

/** Values per `in (…)` list and rows per insert: well under both backends' parameter limits. */
const CHUNK = 500;

/**
 * Privacy streams' field keys (wrapped by the master key) and the tombstones of shredded ones.
 * Reached as `repository.fieldKeys`, inside the repository's transaction.
 */
export class FieldKeyQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** The keys of `keyLinks` in `contract` for the period ending at `periodEnd`. */
  async findActiveKeys(
    contract: string,
    periodEnd: number,
    keyLinks: readonly string[],
  ): Promise<FieldKeyRow[]> {
    const rows: FieldKeyRow[] = [];
    for (let start = 0; start < keyLinks.length; start += CHUNK) {
      rows.push(
        ...(await this.db
          .selectFrom('field_keys')
          .selectAll()
          .where('contract', '=', contract)
          .where('period_end', '=', periodEnd)
          .where('key_link', 'in', keyLinks.slice(start, start + CHUNK))
          .execute()),
      );
    }
    return rows;
  }

  /**
   * Inserts each row unless a key for the same (contract, key link, period start) exists
   * already. Never fails on that conflict, so concurrent creators of the same key can all read
   * back the one that won.
   */
  async insertKeys(rows: readonly FieldKeyRow[]): Promise<void> {
    for (let start = 0; start < rows.length; start += CHUNK) {
      await this.db
        .insertInto('field_keys')
        .values(rows.slice(start, start + CHUNK))
        .onConflict((oc) => oc.columns(['contract', 'key_link', 'period_start']).doNothing())
        .execute();
    }
  }

  /**
   * Which of `keyLinks` had a key shredded in `contract` over any part of `[periodStart,
   * periodEnd)`: overlap rather than equality, so a changed rotation period cannot make a
   * shredded period's key again.
   */
  async shreddedKeyLinks(
    contract: string,
    keyLinks: readonly string[],
    periodStart: number,
    periodEnd: number,
  ): Promise<Set<string>> {
    const shredded = new Set<string>();
    for (let start = 0; start < keyLinks.length; start += CHUNK) {
      const rows = await this.db
        .selectFrom('field_key_tombstones')
        .select('key_link')
        .where('contract', '=', contract)
        .where('key_link', 'in', keyLinks.slice(start, start + CHUNK))
        .where('period_start', '<', periodEnd)
        .where('period_end', '>', periodStart)
        .execute();
      for (const row of rows) shredded.add(row.key_link);
    }
    return shredded;
  }

  /** Deletes keys just inserted for periods found shredded meanwhile (they never encrypted anything). */
  async deleteUnusedKeys(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .deleteFrom('field_keys')
      .where('id', 'in', [...ids])
      .execute();
  }

  async keysByIds(ids: readonly string[]): Promise<FieldKeyRow[]> {
    const rows: FieldKeyRow[] = [];
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      rows.push(...(await this.db.selectFrom('field_keys').selectAll().where('id', 'in', chunk).execute()));
    }
    return rows;
  }

  /** Which of `ids` are shredded keys. */
  async tombstoneIds(ids: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      const rows = await this.db
        .selectFrom('field_key_tombstones')
        .select('id')
        .where('id', 'in', chunk)
        .execute();
      found.push(...rows.map((row) => row.id));
    }
    return found;
  }

  /** Whether any live key exists (its period length is fixed by the rotation it was made with). */
  async hasKeys(): Promise<boolean> {
    const row = await this.db.selectFrom('field_keys').select('id').limit(1).executeTakeFirst();
    return row !== undefined;
  }

  getKey(id: string): Promise<FieldKeyRow | undefined> {
    return this.db.selectFrom('field_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async keyIdsOfSubject(subject: string): Promise<string[]> {
    const rows = await this.db.selectFrom('field_keys').select('id').where('subject', '=', subject).execute();
    return rows.map((row) => row.id);
  }

  /** The keys of `subject` without their material, oldest period first. */
  keysOfSubject(subject: string): Promise<Omit<FieldKeyRow, 'wrapped'>[]> {
    return this.db
      .selectFrom('field_keys')
      .select(['id', 'contract', 'key_link', 'subject', 'period_start', 'period_end', 'created_at'])
      .where('subject', '=', subject)
      .orderBy('period_start')
      .orderBy('id')
      .execute();
  }

  tombstonesOfSubject(subject: string): Promise<FieldKeyTombstoneRow[]> {
    return this.db
      .selectFrom('field_key_tombstones')
      .selectAll()
      .where('subject', '=', subject)
      .orderBy('period_start')
      .orderBy('id')
      .execute();
  }

  /** Up to `limit` ids of `contract`'s keys whose period ended at or before `endedBy`. */
  async keyIdsEndedBy(contract: string, endedBy: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('field_keys')
      .select('id')
      .where('contract', '=', contract)
      .where('period_end', '<=', endedBy)
      .orderBy('period_end')
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }

  getTombstone(id: string): Promise<FieldKeyTombstoneRow | undefined> {
    return this.db.selectFrom('field_key_tombstones').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Shreds the keys `ids`: each becomes a tombstone (no key material) and its row is deleted,
   * overwritten first so that the wrapped bytes do not linger in the page until it is reused.
   * Run it in the caller's transaction; returns the ids actually shredded (unknown or already
   * shredded ids are skipped).
   */
  async shred(ids: readonly string[], at: number, reason: string): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('field_keys')
      .select(['id', 'contract', 'key_link', 'subject', 'period_start', 'period_end'])
      .where('id', 'in', [...ids])
      .execute();
    if (rows.length === 0) return [];
    const shredded = rows.map((row) => row.id);
    await this.db
      .insertInto('field_key_tombstones')
      .values(rows.map((row) => ({ ...row, shredded_at: at, reason })))
      .execute();
    await this.db.updateTable('field_keys').set({ wrapped: '' }).where('id', 'in', shredded).execute();
    await this.db.deleteFrom('field_keys').where('id', 'in', shredded).execute();
    return shredded;
  }
}
