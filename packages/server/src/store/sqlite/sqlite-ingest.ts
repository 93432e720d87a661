import type BetterSqlite3 from 'better-sqlite3';
import type { AuditRecord } from '../../audit/audit-chain.js';
import { encodeJournalRow, type JournalEvent } from '../../retention/journal/journal-codec.js';
import type { IngestBatch, IngestOutcome, JournalBacklog } from '../store.js';

/**
 * The ingest hot path on SQLite, on the journal file's connection only (`sqlite-journal-file.ts`):
 * one synchronous transaction per group of batches that records the event ids (dedupe), appends
 * the accepted events to the usage journal as one row, with the audit records of the batches,
 * and commits. It never touches the main file, so it never waits for the fold's commits; the
 * aggregates and the audit chain are the fold's work (`sqlite-fold.ts`).
 */
export class SqliteJournalAppend {
  private readonly horizon;
  private readonly setHorizon;
  private readonly insertEventId;
  private readonly anyIdBefore;
  private readonly deleteIdsBefore;
  private readonly appendJournal;
  private readonly lastSeq;
  private readonly backlogAfter;
  private readonly run;
  private readonly forget;

  /** `catalogVersion` reads the main file's committed version (a WAL read: it never waits). */
  constructor(
    journal: BetterSqlite3.Database,
    private readonly catalogVersion: () => number,
  ) {
    this.horizon = journal.prepare<[], { value: string }>(
      "select value from journal_meta where key = 'event_id_horizon'",
    );
    this.setHorizon = journal.prepare<[number]>(
      "update journal_meta set value = max(cast(value as integer), ?) where key = 'event_id_horizon'",
    );
    this.insertEventId = journal.prepare<[string, number]>(
      'insert or ignore into event_ids (id, received_at) values (?, ?)',
    );
    this.anyIdBefore = journal.prepare<[number], { id: string }>(
      'select id from event_ids where received_at < ? limit 1',
    );
    this.deleteIdsBefore = journal.prepare<[number]>('delete from event_ids where received_at < ?');
    this.appendJournal = journal.prepare<[number, number, Uint8Array, string | null]>(
      'insert into usage_journal (appended_at, events, payload, audit) values (?, ?, ?, ?)',
    );
    this.lastSeq = journal.prepare<[], { seq: number | null }>('select max(seq) as seq from usage_journal');
    this.backlogAfter = journal.prepare<
      [number],
      { rows: number; events: number | null; oldest: number | null }
    >(
      'select count(*) as rows, sum(events) as events, min(appended_at) as oldest from usage_journal where seq > ?',
    );
    this.run = journal.transaction((batches: readonly IngestBatch[]): IngestOutcome[] => {
      const version = this.catalogVersion();
      const horizon = Number(this.horizon.get()?.value);
      const fresh: JournalEvent[] = [];
      const audit: AuditRecord[] = [];
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
        audit.push(batch.audit);
        return { kind: 'committed', duplicates, forgotten };
      });
      // A batch of duplicates only still has its audit entry: its row then holds no events.
      if (audit.length) {
        this.appendJournal.run(Date.now(), fresh.length, encodeJournalRow(fresh), JSON.stringify(audit));
      }
      return outcomes;
    });
    this.forget = journal.transaction((receivedBefore: number, horizon: number): number => {
      if (!this.anyIdBefore.get(receivedBefore)) return 0;
      // The horizon moves in the same transaction, before the ids go (see `forgetEventIds`).
      this.setHorizon.run(horizon);
      return this.deleteIdsBefore.run(receivedBefore).changes;
    });
  }

  /**
   * Appends several batches in one transaction (group commit: one fsync for all of them) and
   * returns each batch's own outcome. `immediate` takes the journal's write lock at BEGIN.
   */
  ingestGroup(batches: readonly IngestBatch[]): IngestOutcome[] {
    return this.run.immediate(batches);
  }

  /** `RetentionQueries.forgetEventIds` for the journal file, where SQLite keeps the ids. */
  forgetEventIds(receivedBefore: number, horizon: number): number {
    return this.forget.immediate(receivedBefore, horizon);
  }

  /** The journal's last position: a fold up to it covers everything appended so far. */
  lastPosition(): number {
    return this.lastSeq.get()?.seq ?? 0;
  }

  /** The rows after the folded position `folded`. */
  backlog(folded: number): JournalBacklog {
    const row = this.backlogAfter.get(folded);
    return { rows: row?.rows ?? 0, events: row?.events ?? 0, oldestAt: row?.oldest ?? undefined };
  }
}
