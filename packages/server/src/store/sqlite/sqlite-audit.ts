import type BetterSqlite3 from 'better-sqlite3';
import { chainAuditRecords, type AuditRecord } from '../../audit/audit-chain.js';
import { AppError } from '../../lib/app-error.js';

/**
 * Audit entries chained on the main file's connection, as `AuditQueries.append` does: the
 * entries of reads (group-committed) and, at fold time, those of the ingest batches, which wait
 * with their events in the journal file until then (docs/security.md, "Audit trail").
 */
export class SqliteAuditStatements {
  private readonly claimSeqs;
  private readonly insertEntry;
  private readonly setHead;
  private readonly runGroup;

  constructor(main: BetterSqlite3.Database) {
    this.claimSeqs = main.prepare<[number], { seq: number; hash: string }>(
      'update audit_head set seq = seq + ? where id = 1 returning seq, hash',
    );
    this.insertEntry = main.prepare<[number, number, string, string, string, string | null, string, string]>(
      'insert into audit_log (seq, at, actor, action, target, request_id, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.setHead = main.prepare<[string]>('update audit_head set hash = ? where id = 1');
    this.runGroup = main.transaction((records: readonly AuditRecord[]) => this.append(records));
  }

  /** Chains `records` inside the caller's transaction; fails closed with `AUDIT_FAILED`. */
  append(records: readonly AuditRecord[]): void {
    if (records.length === 0) return;
    try {
      const claimed = this.claimSeqs.get(records.length);
      if (!claimed) throw new Error('audit_head row is missing');
      const { entries, head } = chainAuditRecords(
        { seq: claimed.seq - records.length, hash: claimed.hash },
        records,
      );
      for (const e of entries) {
        this.insertEntry.run(e.seq, e.at, e.actor, e.action, e.target, e.requestId, e.prevHash, e.hash);
      }
      this.setHead.run(head.hash);
    } catch (error) {
      // Fail closed: the caller's transaction is rolled back with it.
      throw new AppError('AUDIT_FAILED', undefined, undefined, { cause: error });
    }
  }

  /** Audit entries on their own (reads' entries, group-committed), in one durable transaction. */
  appendGroup(records: readonly AuditRecord[]): void {
    this.runGroup.immediate(records);
  }
}
