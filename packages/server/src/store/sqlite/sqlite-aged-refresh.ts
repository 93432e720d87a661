import type BetterSqlite3 from 'better-sqlite3';
import { agedPairs, agedRefresh, type AgedRefreshInput } from '../../retention/aging/aged-refresh.js';
import type { FieldExpiryRow, PolicyRow, UsageRow } from '../../retention/retention-tables.js';
import type { UsageDelta } from '../../retention/usage-batch.js';

/**
 * Aging strategies on SQLite (docs/retention.md, "Aging"): after the fold's upserts, the
 * subject-fields folded under a policy that does not age from the last use are recomputed exactly
 * from their usages (`agedRefresh`), inside the fold's transaction (synchronous statements: the
 * fold is one better-sqlite3 transaction). `postgres-fold.ts` does the same on PostgreSQL.
 */
export class SqliteAgedRefresh {
  private readonly agedPolicies;
  private readonly policies;
  private readonly usagesOfSubject;
  private readonly fieldRowsOfSubject;
  private readonly consentOfSubject;
  private readonly eventsOfSubject;
  private readonly updateField;
  private readonly restoreSubject;

  constructor(connection: BetterSqlite3.Database) {
    this.agedPolicies = connection.prepare<[], { name: string }>(
      "select name from policies where since <> 'last-use'",
    );
    this.policies = connection.prepare<[], PolicyRow>('select * from policies');
    this.usagesOfSubject = connection.prepare<[string], UsageRow>('select * from usages where subject = ?');
    this.fieldRowsOfSubject = connection.prepare<[string], FieldExpiryRow>(
      'select * from field_expiries where subject = ?',
    );
    this.consentOfSubject = connection.prepare<
      [string],
      { subject: string; purpose: string; granted_at: number | null; withdrawn_at: number | null }
    >('select subject, purpose, granted_at, withdrawn_at from consent_states where subject = ?');
    this.eventsOfSubject = connection.prepare<[string], { name: string; at: number }>(
      'select name, min(at) as at from subject_events where subject = ? group by name',
    );
    this.updateField = connection.prepare<[number, string, string, string, string]>(
      'update field_expiries set expires_at = ?, policy = ?, system = ? where subject = ? and field = ?',
    );
    this.restoreSubject = connection.prepare<{ subject: string }>(`
      update subject_expiries set (expires_at, field, policy, system) = (
        select expires_at, field, policy, system from field_expiries
        where subject = :subject order by expires_at desc, field limit 1)
      where subject = :subject`);
  }

  /** One small query per fold while no policy ages otherwise than from the last use. */
  refresh(usages: readonly UsageDelta[]): void {
    if (usages.length === 0) return;
    const aged = this.agedPolicies.all();
    if (aged.length === 0) return;
    const pairs = agedPairs(usages, new Set(aged.map((row) => row.name)));
    if (pairs.length === 0) return;
    const subjects = [...new Set(pairs.map((pair) => pair.subject))];
    const input: AgedRefreshInput = {
      policies: this.policies.all(),
      pairs,
      usages: subjects.flatMap((subject) => this.usagesOfSubject.all(subject)),
      fieldRows: subjects.flatMap((subject) => this.fieldRowsOfSubject.all(subject)),
      consent: subjects.flatMap((subject) => this.consentOfSubject.all(subject)),
      events: new Map(
        subjects.map((subject) => [
          subject,
          new Map(this.eventsOfSubject.all(subject).map((row) => [row.name, row.at])),
        ]),
      ),
    };
    const { fields, subjects: touched } = agedRefresh(input);
    for (const f of fields) this.updateField.run(f.expiresAt, f.policy, f.system, f.subject, f.field);
    for (const subject of touched) this.restoreSubject.run({ subject });
  }
}
