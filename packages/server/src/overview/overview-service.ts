import {
  OVERVIEW_DUE_SOON_DAYS,
  OVERVIEW_EXPIRY_DAYS,
  type ExpiryDay,
  type Overview,
  type OverviewCounts,
  type PastExpiry,
} from '@lethe/api';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { OPEN_STATUSES } from '../requests/request-status.js';
import type { CatalogCache } from '../retention/catalog-cache.js';
import { holdColumns } from '../retention/holds/hold-rules.js';
import { standingHolds } from '../retention/holds/hold-service.js';
import { DAY_MS, toIso } from '../lib/time.js';
import type { Store } from '../store/store.js';
import type { ExpiryScope, PastExpiryRow } from './overview-queries.js';

/**
 * The dashboard's overview: how much Lethe holds, what is owed, what is late and what expires
 * when. Counts only, so it is not audited as a read of subject data. A token limited to one
 * system (a service) or to some categories gets the past-expiry figures and expiry days of what
 * it may see, and no `counts`: those span every system and category.
 */
export class OverviewService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogCache,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Fields past their expiry and still to be deleted, per system, holds left out: the one count
   * behind the overview's cards, the `lethe_fields_past_expiry` gauge and the `expiries.due`
   * webhook digest, so that the three never disagree. Store-wide (Lethe's own use, no principal).
   */
  async fieldsPastExpiry(now: number): Promise<Map<string, number>> {
    const rows = await this.pastExpiryRows(now, {});
    return new Map(rows.filter((row) => row.fields > 0).map((row) => [row.system, row.fields]));
  }

  private async pastExpiryRows(now: number, scope: ExpiryScope): Promise<PastExpiryRow[]> {
    const view = await this.catalog.current();
    const holds = (await standingHolds(this.store.repository)).map((hold) =>
      holdColumns(hold, view.declaredFields(), (field) => view.categoriesOf(field)),
    );
    return this.store.repository.overview.pastExpiry(now, holds, scope);
  }

  async overview(principal: Principal): Promise<Overview> {
    authorize(principal, 'overview:read');
    const now = this.now();
    const today = Math.floor(now / DAY_MS);
    const view = await this.catalog.current();
    const visible = view.visibleFields(principal);
    const scope: ExpiryScope = {
      ...(principal.role === 'service' ? { system: principal.system ?? '' } : {}),
      ...(visible ? { fields: [...visible] } : {}),
    };
    const limited = scope.system !== undefined || scope.fields !== undefined;
    await this.store.freshAggregates();
    const [counts, pastExpiry, expiriesPerDay] = await Promise.all([
      limited ? undefined : this.counts(now),
      this.pastExpiryRows(now, scope),
      this.expiriesPerDay(today, limited ? scope : undefined),
    ]);
    return {
      ...(counts ? { counts } : {}),
      pastExpiry: pastExpiry
        .map((row) => pastExpiryOf(row, now))
        .sort((a, b) => b.daysLate - a.daysLate || a.system.localeCompare(b.system)),
      expiriesPerDay,
      generatedAt: toIso(now),
    };
  }

  /** The next days' expiries: of fields and whole subjects, or for a scope of its fields and their people. */
  private async expiriesPerDay(today: number, scope: ExpiryScope | undefined): Promise<ExpiryDay[]> {
    const queries = this.store.repository.overview;
    const [from, to] = [today * DAY_MS, (today + OVERVIEW_EXPIRY_DAYS) * DAY_MS];
    let perDay: (day: number) => { fields: number; subjects: number };
    if (scope) {
      const scoped = await queries.scopedExpiriesPerDay(scope, from, to);
      perDay = (day) => scoped.get(day) ?? { fields: 0, subjects: 0 };
    } else {
      const [fields, subjects] = await Promise.all([
        queries.expiriesPerDay('field_expiries', from, to),
        queries.expiriesPerDay('subject_expiries', from, to),
      ]);
      perDay = (day) => ({ fields: fields.get(day) ?? 0, subjects: subjects.get(day) ?? 0 });
    }
    return Array.from({ length: OVERVIEW_EXPIRY_DAYS }, (_, offset) => ({
      day: toIso((today + offset) * DAY_MS).slice(0, 10),
      ...perDay(today + offset),
    }));
  }

  private async counts(now: number): Promise<OverviewCounts> {
    const queries = this.store.repository.overview;
    const [subjects, fields, systems, openRequests, deadlines, reappearances, consentViolations] =
      await Promise.all([
        queries.count('subject_expiries'),
        queries.count('fields'),
        queries.count('systems'),
        queries.requestCount(OPEN_STATUSES),
        this.store.repository.gauges.requestDeadlines(now, now + OVERVIEW_DUE_SOON_DAYS * DAY_MS),
        queries.reappearanceCount(),
        queries.count('consent_violations'),
      ]);
    return {
      subjects,
      fields,
      systems,
      openRequests,
      overdueRequests: deadlines.overdue,
      dueSoonRequests: deadlines.dueSoon,
      reappearances,
      consentViolations,
    };
  }
}

function pastExpiryOf(row: PastExpiryRow, now: number): PastExpiry {
  return {
    system: row.system,
    fields: row.fields,
    subjects: row.subjects,
    ...(row.oldest !== undefined ? { oldestExpiresAt: toIso(row.oldest) } : {}),
    daysLate: row.oldest === undefined ? 0 : Math.floor((now - row.oldest) / DAY_MS),
    heldFields: row.held,
  };
}
