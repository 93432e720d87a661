import type BetterSqlite3 from 'better-sqlite3';
import { AppError } from '../../lib/app-error.js';
import { chainAuditRecords } from '../../audit/audit-chain.js';
import { NO_CONSENT, type ConsentWindow } from '../../consent/consent.js';
import {
  aggregateBatch,
  consentKey,
  consentKeys,
  type AcceptedEvent,
  type ConsentLookup,
} from '../../retention/usage-batch.js';
import type { IngestBatch, IngestOutcome } from '../store.js';

/**
 * The ingest hot path on SQLite: prepared statements, one synchronous transaction per group of
 * batches, each (subject, field, policy) written once per group. Expiries only move later on ingest, so the
 * upserts keep the maximum instead of re-reading every policy of a field.
 */
export class SqliteIngestStatements {
  private readonly catalogVersion;
  private readonly insertEventId;
  private readonly upsertUsage;
  private readonly upsertFieldExpiry;
  private readonly upsertSubjectExpiry;
  private readonly upsertLink;
  private readonly consentState;
  private readonly upsertViolation;
  private readonly claimAuditSeqs;
  private readonly insertAuditEntry;
  private readonly setAuditHead;
  private readonly run;

  constructor(connection: BetterSqlite3.Database) {
    this.catalogVersion = connection.prepare<[], { value: string }>(
      "select value from meta where key = 'catalog_version'",
    );
    this.insertEventId = connection.prepare<[string, number]>(
      'insert or ignore into event_ids (id, received_at) values (?, ?)',
    );
    this.upsertUsage = connection.prepare<
      [string, string, string, number, number, number, string, number | null]
    >(`
      insert into usages (subject, field, policy, first_use_at, last_use_at, use_count, last_system,
        last_consented_use_at)
      values (?, ?, ?, ?, ?, ?, ?, ?)
      on conflict (subject, field, policy) do update set
        first_use_at = min(first_use_at, excluded.first_use_at),
        last_consented_use_at = case
          when last_consented_use_at is null then excluded.last_consented_use_at
          when excluded.last_consented_use_at is null then last_consented_use_at
          else max(last_consented_use_at, excluded.last_consented_use_at) end,
        last_system = case when excluded.last_use_at >= last_use_at then excluded.last_system else last_system end,
        last_use_at = max(last_use_at, excluded.last_use_at),
        use_count = use_count + excluded.use_count`);
    this.upsertFieldExpiry = connection.prepare<[string, string, number, string, string, number]>(`
      insert into field_expiries (subject, field, expires_at, policy, system, last_use_at)
      values (?, ?, ?, ?, ?, ?)
      on conflict (subject, field) do update set
        policy = case when excluded.expires_at > expires_at then excluded.policy else policy end,
        system = case when excluded.expires_at > expires_at then excluded.system else system end,
        expires_at = max(expires_at, excluded.expires_at),
        last_use_at = max(last_use_at, excluded.last_use_at),
        reappeared_at = case
          when erased_at is not null and excluded.last_use_at > erased_at and reappeared_at is null
          then excluded.last_use_at else reappeared_at end`);
    this.upsertSubjectExpiry = connection.prepare<[string, number, string, string, string]>(`
      insert into subject_expiries (subject, expires_at, field, policy, system)
      values (?, ?, ?, ?, ?)
      on conflict (subject) do update set
        field = case when excluded.expires_at > expires_at then excluded.field else field end,
        policy = case when excluded.expires_at > expires_at then excluded.policy else policy end,
        system = case when excluded.expires_at > expires_at then excluded.system else system end,
        expires_at = max(expires_at, excluded.expires_at)`);
    this.upsertLink = connection.prepare<[string, string, string, number, number, number]>(`
      insert into usage_links (system, field, policy, first_use_at, last_use_at, use_count)
      values (?, ?, ?, ?, ?, ?)
      on conflict (system, field, policy) do update set
        first_use_at = min(first_use_at, excluded.first_use_at),
        last_use_at = max(last_use_at, excluded.last_use_at),
        use_count = use_count + excluded.use_count`);
    // Inside the `immediate` transaction: a withdrawal cannot commit between this read and the
    // writes that depend on it.
    this.consentState = connection.prepare<
      [string, string],
      { granted_at: number | null; withdrawn_at: number | null }
    >('select granted_at, withdrawn_at from consent_states where subject = ? and purpose = ?');
    this.upsertViolation = connection.prepare<[string, string, string, string, number, number, number]>(`
      insert into consent_violations (subject, policy, system, purpose, first_at, last_at, use_count)
      values (?, ?, ?, ?, ?, ?, ?)
      on conflict (subject, policy, system) do update set
        first_at = min(first_at, excluded.first_at),
        last_at = max(last_at, excluded.last_at),
        use_count = use_count + excluded.use_count`);
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
      const version = Number(this.catalogVersion.get()?.value);
      const fresh: AcceptedEvent[] = [];
      const outcomes = batches.map((batch): IngestOutcome => {
        if (version !== batch.catalogVersion) return { kind: 'stale-catalog' };
        const duplicates: number[] = [];
        batch.events.forEach((event, index) => {
          if (event.id !== undefined && this.insertEventId.run(event.id, batch.receivedAt).changes === 0) {
            duplicates.push(index);
          } else {
            fresh.push(event);
          }
        });
        return { kind: 'committed', duplicates };
      });
      // One aggregation over every batch of the group: a key used by several batches is written once.
      const { usages, violations, fields, subjects, links } = aggregateBatch(
        fresh,
        this.lookupConsent(fresh),
      );
      for (const u of usages) {
        this.upsertUsage.run(
          u.subject,
          u.field,
          u.policy,
          u.firstUseAt,
          u.lastUseAt,
          u.count,
          u.lastSystem,
          u.lastConsentedUseAt,
        );
      }
      for (const v of violations) {
        this.upsertViolation.run(v.subject, v.policy, v.system, v.purpose, v.firstAt, v.lastAt, v.count);
      }
      for (const f of fields) {
        this.upsertFieldExpiry.run(f.subject, f.field, f.expiresAt, f.policy, f.system, f.lastUseAt);
      }
      for (const s of subjects) {
        this.upsertSubjectExpiry.run(s.subject, s.expiresAt, s.field, s.policy, s.system);
      }
      for (const l of links) {
        this.upsertLink.run(l.system, l.field, l.policy, l.firstUseAt, l.lastUseAt, l.count);
      }
      this.appendAudit(batches.filter((_batch, index) => outcomes[index]?.kind === 'committed'));
      return outcomes;
    });
  }

  /** One lookup per (subject, purpose) of the events under consent-based policies; none otherwise. */
  private lookupConsent(events: readonly AcceptedEvent[]): ConsentLookup {
    const windows = new Map<string, ConsentWindow>();
    for (const { subject, purpose } of consentKeys(events)) {
      const row = this.consentState.get(subject, purpose);
      if (row)
        windows.set(consentKey(subject, purpose), {
          grantedAt: row.granted_at,
          withdrawnAt: row.withdrawn_at,
        });
    }
    return (subject, purpose) => windows.get(consentKey(subject, purpose)) ?? NO_CONSENT;
  }

  /** The audit entries of the committed batches, chained as `AuditQueries.append` does. */
  private appendAudit(committed: readonly IngestBatch[]): void {
    if (committed.length === 0) return;
    try {
      const claimed = this.claimAuditSeqs.get(committed.length);
      if (!claimed) throw new Error('audit_head row is missing');
      const { entries, head } = chainAuditRecords(
        { seq: claimed.seq - committed.length, hash: claimed.hash },
        committed.map((batch) => batch.audit),
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
   * Applies several batches in one transaction (group commit: one fsync and one round of page
   * writes for all of them) and returns each batch's own outcome.
   */
  ingestGroup(batches: readonly IngestBatch[]): IngestOutcome[] {
    // `immediate` takes the write lock at BEGIN, so the catalog version it reads cannot go stale.
    return this.run.immediate(batches);
  }
}
