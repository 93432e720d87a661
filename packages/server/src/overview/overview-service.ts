import { OVERVIEW_EXPIRY_DAYS, type Overview } from '@lethe/api';
import { authorize, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { OPEN_STATUSES } from '../requests/request-status.js';
import type { Store } from '../store/store.js';

const DAY_MS = 86_400_000;

/**
 * The dashboard's overview: how much Lethe holds, what is owed, and what expires when. Counts
 * only, so it is not audited as a read of subject data; but the counts span every category, so a
 * category-limited token is refused rather than shown numbers it could not check.
 */
export class OverviewService {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  async overview(principal: Principal): Promise<Overview> {
    authorize(principal, 'overview:read');
    requireAllCategories(principal, 'The overview counts every category');
    const now = this.now();
    const today = Math.floor(now / DAY_MS);
    await this.store.freshAggregates();
    const queries = this.store.repository.overview;
    const [from, to] = [today * DAY_MS, (today + OVERVIEW_EXPIRY_DAYS) * DAY_MS];
    const [
      subjects,
      fields,
      systems,
      requests,
      reappearances,
      consentViolations,
      fieldsPerDay,
      subjectsPerDay,
    ] = await Promise.all([
      queries.count('subject_expiries'),
      queries.count('fields'),
      queries.count('systems'),
      queries.requestCounts(OPEN_STATUSES, now),
      queries.reappearanceCount(),
      queries.count('consent_violations'),
      queries.expiriesPerDay('field_expiries', from, to),
      queries.expiriesPerDay('subject_expiries', from, to),
    ]);
    return {
      counts: {
        subjects,
        fields,
        systems,
        openRequests: requests.open,
        overdueRequests: requests.overdue,
        reappearances,
        consentViolations,
      },
      expiriesPerDay: Array.from({ length: OVERVIEW_EXPIRY_DAYS }, (_, offset) => ({
        day: new Date((today + offset) * DAY_MS).toISOString().slice(0, 10),
        fields: fieldsPerDay.get(today + offset) ?? 0,
        subjects: subjectsPerDay.get(today + offset) ?? 0,
      })),
      generatedAt: new Date(now).toISOString(),
    };
  }
}
