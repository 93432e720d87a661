import type BetterSqlite3 from 'better-sqlite3';
import { NO_CONSENT, type ConsentWindow } from '../../consent/consent.js';
import {
  aggregateInterned,
  consentPairs,
  type InternedConsentLookup,
} from '../../retention/journal/journal-aggregate.js';
import { InternedJournal } from '../../retention/journal/journal-codec.js';
import type { FoldResult } from '../store.js';
import type { AuditRecord } from '../../audit/audit-chain.js';
import { SqliteAuditStatements } from './sqlite-audit.js';
import { FOLDED_POSITION_KEY } from './sqlite-journal-file.js';
import { SqliteAgedRefresh } from './sqlite-aged-refresh.js';
import { countBy, foldWebhookEvents } from '../../webhooks/fold-events.js';
import { newEventId } from '../../webhooks/webhook-outbox.js';

/** Journal rows read per query while gathering a fold (a row holds one group commit's events). */
const ROWS_PER_READ = 64;

/**
 * The fold on SQLite: reads the usage-journal rows after the folded position, aggregates their
 * events (each (subject, field, policy) written once per fold), upserts usages, expiries, links
 * and consent violations, chains the batches' audit entries and moves the position, all in one
 * transaction of the main file. It runs on the fold worker (`sqlite-fold-worker.ts`), and on the
 * main thread for what is left inside a `freshAggregates` transaction. Expiries only move later
 * on ingest, so the upserts keep the maximum instead of re-reading every policy of a field.
 */
export class SqliteFoldStatements {
  private readonly audit;
  private readonly journalRows;
  private readonly deleteJournal;
  private readonly position;
  private readonly setPosition;
  private readonly upsertUsage;
  private readonly upsertFieldExpiry;
  private readonly upsertSubjectExpiry;
  private readonly anyExpireNow;
  private readonly restoreSubjectExpiry;
  private readonly upsertLink;
  private readonly consentState;
  private readonly upsertViolation;
  private readonly agedRefresh;
  private readonly addWebhookEvent;
  private readonly run;

  /**
   * `main`: the aggregates, the folded position and the audit chain; `journal`: the journal
   * file, only read here (the rows are deleted by `deleteFolded`, in a transaction of its own).
   */
  constructor(connection: BetterSqlite3.Database, journal: BetterSqlite3.Database) {
    this.audit = new SqliteAuditStatements(connection);
    this.journalRows = journal.prepare<
      [number, number, number],
      { seq: number; events: number; payload: Buffer; audit: string | null }
    >(
      'select seq, events, payload, audit from usage_journal where seq > ? and seq <= ? order by seq limit ?',
    );
    this.deleteJournal = journal.prepare<[number]>('delete from usage_journal where seq <= ?');
    this.position = connection.prepare<[string], { value: string }>('select value from meta where key = ?');
    this.setPosition = connection.prepare<[string, string]>('update meta set value = ? where key = ?');
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
    this.upsertFieldExpiry = connection.prepare<
      [string, string, number, string, string, number],
      { reappeared_at: number | null; system: string }
    >(`
      insert into field_expiries (subject, field, expires_at, policy, system, last_use_at)
      values (?, ?, ?, ?, ?, ?)
      on conflict (subject, field) do update set
        policy = case when expire_now_at is null and excluded.expires_at > expires_at
          then excluded.policy else policy end,
        system = case when expire_now_at is null and excluded.expires_at > expires_at
          then excluded.system else system end,
        expires_at = case when expire_now_at is null then max(expires_at, excluded.expires_at) else expires_at end,
        last_use_at = max(last_use_at, excluded.last_use_at),
        reappeared_at = case
          when erased_at is not null and excluded.last_use_at > erased_at and reappeared_at is null
          then excluded.last_use_at else reappeared_at end
      -- Only a use that changes something writes (and returns) the row: a replayed use does not,
      -- so it cannot be taken for a reappearance again (the PostgreSQL fold has the same guard).
      where (expire_now_at is null and excluded.expires_at > expires_at)
        or excluded.last_use_at > last_use_at
        or (erased_at is not null and reappeared_at is null and excluded.last_use_at > erased_at)
      returning reappeared_at, system`);
    this.upsertSubjectExpiry = connection.prepare<[string, number, string, string, string]>(`
      insert into subject_expiries (subject, expires_at, field, policy, system)
      values (?, ?, ?, ?, ?)
      on conflict (subject) do update set
        field = case when excluded.expires_at > expires_at then excluded.field else field end,
        policy = case when excluded.expires_at > expires_at then excluded.policy else policy end,
        system = case when excluded.expires_at > expires_at then excluded.system else system end,
        expires_at = max(expires_at, excluded.expires_at)`);
    // Expire now: a decided field's use may have raised the subject's expiry above its fields'.
    this.anyExpireNow = connection.prepare<[], { found: number }>(
      'select 1 as found from field_expiries where expire_now_at is not null limit 1',
    );
    this.restoreSubjectExpiry = connection.prepare<{ subject: string }>(`
      update subject_expiries set (expires_at, field, policy, system) = (
        select expires_at, field, policy, system from field_expiries
        where subject = :subject order by expires_at desc, field limit 1)
      where subject = :subject and exists (
        select 1 from field_expiries where subject = :subject and expire_now_at is not null)`);
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
    this.agedRefresh = new SqliteAgedRefresh(connection);
    this.addWebhookEvent = connection.prepare<[string, string, string | null, string, number]>(
      'insert into webhook_events (id, type, system, data, created_at) values (?, ?, ?, ?, ?)',
    );
    this.run = connection.transaction((maxEvents: number, upTo: number): FoldResult => {
      // Read inside the write transaction: a fold on another thread or process cannot interleave.
      const folded = this.foldedPosition();
      const events = new InternedJournal();
      const audit: AuditRecord[] = [];
      let last = folded;
      let rows = 0;
      while (events.length < maxEvents) {
        const read = this.journalRows.all(last, upTo, ROWS_PER_READ);
        for (const row of read) {
          events.decode(row.payload);
          if (row.audit !== null) audit.push(...(JSON.parse(row.audit) as AuditRecord[]));
          last = row.seq;
          rows += 1;
          if (events.length >= maxEvents) break;
        }
        if (read.length < ROWS_PER_READ) break;
      }
      if (rows === 0) return { rows: 0, events: 0 };
      this.apply(events);
      this.audit.append(audit);
      this.setPosition.run(String(last), FOLDED_POSITION_KEY);
      return { rows, events: events.length };
    });
  }

  /** Journal rows up to this position are folded (they may not be deleted yet). */
  foldedPosition(): number {
    return Number(this.position.get(FOLDED_POSITION_KEY)?.value ?? 0);
  }

  /**
   * Folds the rows after the folded position up to `upTo`, at least one row and about
   * `maxEvents` events, in one transaction of the main file (a savepoint when the caller holds
   * one open), and chains their audit entries. The rows stay in the journal file until
   * `deleteFolded`: one transaction never commits to both files (SQLite makes such a commit
   * atomic per file only), and the position makes a fold that lost its delete harmless.
   */
  foldOnce(maxEvents: number, upTo = Number.MAX_SAFE_INTEGER): FoldResult {
    return this.run.immediate(maxEvents, upTo);
  }

  /** Deletes the folded rows from the journal file (a short transaction of that file). */
  deleteFolded(): number {
    return this.deleteJournal.run(this.foldedPosition()).changes;
  }

  private apply(events: InternedJournal): void {
    const { usages, violations, fields, subjects, links } = aggregateInterned(
      events,
      this.lookupConsent(events),
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
    const reappeared: string[] = [];
    for (const f of fields) {
      const row = this.upsertFieldExpiry.get(
        f.subject,
        f.field,
        f.expiresAt,
        f.policy,
        f.system,
        f.lastUseAt,
      );
      // Set by this use: the erased field came back (a replay changes nothing, returns no row).
      // Counted under the row's system, the one `/v1/reappearances` shows (as on PostgreSQL).
      if (row && row.reappeared_at === f.lastUseAt) reappeared.push(row.system);
    }
    const now = Date.now();
    for (const event of foldWebhookEvents(violations, countBy(reappeared))) {
      this.addWebhookEvent.run(
        newEventId(),
        event.type,
        event.system ?? null,
        JSON.stringify(event.data),
        now,
      );
    }
    for (const s of subjects) {
      this.upsertSubjectExpiry.run(s.subject, s.expiresAt, s.field, s.policy, s.system);
    }
    // One probe per fold while no decision exists (the usual case), one per subject otherwise.
    if (this.anyExpireNow.get()) {
      for (const s of subjects) this.restoreSubjectExpiry.run({ subject: s.subject });
    }
    this.agedRefresh.refresh(usages);
    for (const l of links) {
      this.upsertLink.run(l.system, l.field, l.policy, l.firstUseAt, l.lastUseAt, l.count);
    }
  }

  /** One lookup per (subject, purpose) of the events under consent-based policies; none otherwise. */
  private lookupConsent(events: InternedJournal): InternedConsentLookup {
    const width = Math.max(1, events.names.length);
    const windows = new Map<number, ConsentWindow>();
    for (const { subject, purpose } of consentPairs(events)) {
      const row = this.consentState.get(events.subjects[subject] as string, events.names[purpose] as string);
      if (row)
        windows.set(subject * width + purpose, { grantedAt: row.granted_at, withdrawnAt: row.withdrawn_at });
    }
    return (subject, purpose) => windows.get(subject * width + purpose) ?? NO_CONSENT;
  }
}
