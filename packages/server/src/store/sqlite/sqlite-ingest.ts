import type BetterSqlite3 from 'better-sqlite3';
import { AppError } from '../../lib/app-error.js';
import { chainAuditRecords, type AuditRecord } from '../../audit/audit-chain.js';
import { encodeJournalRow, type JournalEvent } from '../../retention/journal/journal-codec.js';
import type { IngestBatch, IngestOutcome } from '../store.js';

/**
 * The ingest hot path on SQLite: one synchronous transaction per group of batches that records
 * the event ids (dedupe), appends the accepted events to the usage journal as one row and chains
 * the batches' audit entries. The aggregates are the fold's work (`sqlite-fold.ts`).
 */
export class SqliteIngestStatements {
  private readonly meta;
  private readonly insertEventId;
  private readonly appendJournal;
  private readonly claimAuditSeqs;
  private readonly insertAuditEntry;
  private readonly setAuditHead;
  private readonly run;
  private readonly runAudit;

  constructor(connection: BetterSqlite3.Database) {
    this.meta = connection.prepare<[string], { value: string }>('select value from meta where key = ?');
    this.insertEventId = connection.prepare<[string, number]>(
      'insert or ignore into event_ids (id, received_at) values (?, ?)',
    );
    this.appendJournal = connection.prepare<[number, number, Uint8Array]>(
      'insert into usage_journal (appended_at, events, payload) values (?, ?, ?)',
    );
    this.claimAuditSeqs = connection.prepare<[number], { seq: number; hash: string }>(
      'update audit_head set seq = seq + ? where id = 1 returning seq, hash',
    );
    this.insertAuditEntry = connection.prepare<
      [number, number, string, string, string, string | null, string, string]
    >(
      'insert into audit_log (seq, at, actor, action, target, request_id, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.setAuditHead = connection.prepare<[string]>('update audit_head set hash = ? where id = 1');
    this.run = connection.transaction((batches: readonly IngestBatch[]): IngestOutcome[] => {
      const version = Number(this.meta.get('catalog_version')?.value);
      const horizon = Number(this.meta.get('event_id_horizon')?.value);
      const fresh: JournalEvent[] = [];
      const outcomes = batches.map((batch): IngestOutcome => {
        if (version !== batch.catalogVersion) return { kind: 'stale-catalog' };
        const duplicates: number[] = [];
        const forgotten: number[] = [];
        batch.events.forEach((event, index) => {
          if (event.id === undefined) fresh.push(event);
          else if (event.at < horizon) forgotten.push(index);
          else if (this.insertEventId.run(event.id, batch.receivedAt).changes === 0) duplicates.push(index);
          else fresh.push(event);
        });
        return { kind: 'committed', duplicates, forgotten };
      });
      if (fresh.length) this.appendJournal.run(Date.now(), fresh.length, encodeJournalRow(fresh));
      this.appendAudit(
        batches.filter((_batch, index) => outcomes[index]?.kind === 'committed').map((b) => b.audit),
      );
      return outcomes;
    });
    this.runAudit = connection.transaction((records: readonly AuditRecord[]) => this.appendAudit(records));
  }

  /** Audit entries (the committed batches', or reads'), chained as `AuditQueries.append` does. */
  private appendAudit(committed: readonly AuditRecord[]): void {
    if (committed.length === 0) return;
    try {
      const claimed = this.claimAuditSeqs.get(committed.length);
      if (!claimed) throw new Error('audit_head row is missing');
      const { entries, head } = chainAuditRecords(
        { seq: claimed.seq - committed.length, hash: claimed.hash },
        committed,
      );
      for (const e of entries) {
        this.insertAuditEntry.run(e.seq, e.at, e.actor, e.action, e.target, e.requestId, e.prevHash, e.hash);
      }
      this.setAuditHead.run(head.hash);
    } catch (error) {
      // Fail closed: the group's transaction is rolled back with it.
      throw new AppError('AUDIT_FAILED', undefined, undefined, { cause: error });
    }
  }

  /**
   * Appends several batches in one transaction (group commit: one fsync for all of them) and
   * returns each batch's own outcome.
   */
  /** Audit entries on their own (reads' entries, group-committed), in one durable transaction. */
  appendAuditGroup(records: readonly AuditRecord[]): void {
    this.runAudit.immediate(records);
  }

  ingestGroup(batches: readonly IngestBatch[]): IngestOutcome[] {
    // `immediate` takes the write lock at BEGIN, so the catalog version it reads cannot go stale.
    return this.run.immediate(batches);
  }
}
