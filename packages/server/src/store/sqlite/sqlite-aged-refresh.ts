import type BetterSqlite3 from 'better-sqlite3';
import { NO_CONSENT, type ConsentWindow } from '../../consent/consent.js';
import { agedPairs } from '../../retention/aging/aged-pairs.js';
import { CatalogView } from '../../retention/catalog-cache.js';
import { fieldExpiry } from '../../retention/expiry.js';
import { keepDecision } from '../../retention/retention-recompute.js';
import type { FieldExpiryRow, PolicyRow, UsageRow } from '../../retention/retention-tables.js';
import type { UsageDelta } from '../../retention/usage-batch.js';

/**
 * Aging strategies on SQLite (docs/retention.md, "Aging"): after the fold's upserts, the
 * subject-fields folded under a policy that does not age from the last use are recomputed exactly
 * from their usages with the pure rule, inside the fold's transaction (synchronous statements: the
 * fold is one better-sqlite3 transaction). `refreshSubjectFields` is the same on PostgreSQL.
 */
export class SqliteAgedRefresh {
  private readonly agedPolicies;
  private readonly policies;
  private readonly usagesOfPair;
  private readonly fieldRow;
  private readonly consentOfSubject;
  private readonly eventsOfSubject;
  private readonly updateField;
  private readonly restoreSubject;

  constructor(connection: BetterSqlite3.Database) {
    this.agedPolicies = connection.prepare<[], { name: string }>(
      "select name from policies where since <> 'last-use'",
    );
    this.policies = connection.prepare<[], PolicyRow>('select * from policies');
    this.usagesOfPair = connection.prepare<[string, string], UsageRow>(
      'select * from usages where subject = ? and field = ?',
    );
    this.fieldRow = connection.prepare<[string, string], FieldExpiryRow>(
      'select * from field_expiries where subject = ? and field = ?',
    );
    this.consentOfSubject = connection.prepare<
      [string],
      { purpose: string; granted_at: number | null; withdrawn_at: number | null }
    >('select purpose, granted_at, withdrawn_at from consent_states where subject = ?');
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
    const rules = new CatalogView({
      version: 0,
      policies: this.policies.all(),
      systems: [],
      datasets: [],
      fields: [],
    });
    const touched = new Set<string>();
    let subject: string | undefined;
    let windows = new Map<string, ConsentWindow>();
    let events = new Map<string, number>();
    for (const pair of pairs) {
      if (pair.subject !== subject) {
        subject = pair.subject;
        windows = new Map(
          this.consentOfSubject
            .all(subject)
            .map((row) => [row.purpose, { grantedAt: row.granted_at, withdrawnAt: row.withdrawn_at }]),
        );
        events = new Map(this.eventsOfSubject.all(subject).map((row) => [row.name, row.at]));
      }
      const row = this.fieldRow.get(pair.subject, pair.field);
      const uses = this.usagesOfPair.all(pair.subject, pair.field).map((u) => ({
        policy: u.policy,
        firstUseAt: u.first_use_at,
        lastUseAt: u.last_use_at,
        lastSystem: u.last_system,
        lastConsentedUseAt: u.last_consented_use_at,
      }));
      const seen = events;
      const consent = windows;
      const computed = fieldExpiry(
        uses,
        rules.retentionEnd,
        (policy) => {
          const purpose = rules.consentPurpose(policy);
          return purpose === undefined ? undefined : (consent.get(purpose) ?? NO_CONSENT);
        },
        { agingOf: rules.agingOf, eventAt: (name) => seen.get(name) },
      );
      if (!row || !computed) continue;
      const next = keepDecision(row, computed);
      if (next.expiresAt === row.expires_at && next.policy === row.policy && next.system === row.system) {
        continue;
      }
      this.updateField.run(next.expiresAt, next.policy, next.system, pair.subject, pair.field);
      touched.add(pair.subject);
    }
    for (const name of touched) this.restoreSubject.run({ subject: name });
  }
}
