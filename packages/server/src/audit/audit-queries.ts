import type { Kysely } from 'kysely';
import { AppError } from '../lib/app-error.js';
import { chainAuditRecords, type AuditEntry, type AuditRecord } from './audit-chain.js';
import type { AuditCheckpointRow, AuditHeadRow, AuditRow } from './audit-tables.js';
import type { Database } from '../store/schema.js';

/** The audit log's hash chain, its head, and the signed checkpoints of the head. */
export class AuditQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Appends records to the hash chain; call it inside the transaction of the action it records.
   * Updating the head row first makes concurrent appenders on PostgreSQL wait for each other.
   */
  async append(records: readonly AuditRecord[]): Promise<AuditEntry[]> {
    if (records.length === 0) return [];
    try {
      return await this.chain(records);
    } catch (error) {
      // Fail closed: the caller's transaction, and the action in it, is rolled back.
      throw new AppError('AUDIT_FAILED', undefined, undefined, { cause: error });
    }
  }

  private async chain(records: readonly AuditRecord[]): Promise<AuditEntry[]> {
    const claimed = await this.db
      .updateTable('audit_head')
      .set((eb) => ({ seq: eb('seq', '+', records.length) }))
      .where('id', '=', 1)
      .returning(['seq', 'hash'])
      .executeTakeFirstOrThrow();
    const { entries, head } = chainAuditRecords(
      { seq: Number(claimed.seq) - records.length, hash: claimed.hash },
      records,
    );
    await this.db.insertInto('audit_log').values(entries.map(auditEntryToRow)).execute();
    await this.db.updateTable('audit_head').set({ hash: head.hash }).where('id', '=', 1).execute();
    return entries;
  }

  async entries(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(auditRowToEntry);
  }

  async head(): Promise<AuditHeadRow> {
    return this.db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  }

  async insertCheckpoint(row: AuditCheckpointRow): Promise<void> {
    await this.db
      .insertInto('audit_checkpoints')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  listCheckpoints(limit: number): Promise<AuditCheckpointRow[]> {
    return this.db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'desc').limit(limit).execute();
  }
}

function auditEntryToRow(entry: AuditEntry): AuditRow {
  return {
    seq: entry.seq,
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    request_id: entry.requestId,
    prev_hash: entry.prevHash,
    hash: entry.hash,
  };
}

function auditRowToEntry(row: AuditRow): AuditEntry {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    actor: row.actor,
    action: row.action,
    target: row.target,
    requestId: row.request_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
