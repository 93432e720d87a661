import type { ExpiryStatus } from '@lethe/api';
import type { Repository } from '../../store/repository.js';
import type { CatalogView } from '../catalog-cache.js';
import type { ExpiryRow } from '../retention-queries.js';
import { holdOf, type HeldCandidate, type HoldScope } from './hold-rules.js';

/** What the feed says of a row besides its expiry: act now, later, or not at all while held. */
export interface ExpiryMark {
  readonly status: ExpiryStatus;
  readonly hold?: string;
}

/**
 * Marks feed rows `held` (naming the hold), `due` (expired by `now`) or `upcoming`. A field is
 * held when a hold covers it; a subject-level row is held when a hold covers any of the subject's
 * fields, since deleting the subject would delete that field too.
 */
export async function markRows(
  repository: Repository,
  view: CatalogView,
  holds: readonly HoldScope[],
  now: number,
  level: 'field' | 'subject',
  rows: readonly ExpiryRow[],
): Promise<ExpiryMark[]> {
  const byTime = (row: ExpiryRow): ExpiryMark => ({ status: row.expires_at <= now ? 'due' : 'upcoming' });
  if (holds.length === 0) return rows.map(byTime);
  const mark = (row: ExpiryRow, hold: HoldScope | undefined): ExpiryMark =>
    hold ? { status: 'held', hold: hold.name } : byTime(row);
  if (level === 'field') return rows.map((row) => mark(row, holdOf(holds, candidate(view, row))));
  const fields = await repository.retention.fieldExpiriesOfSubjects([
    ...new Set(rows.map((row) => row.subject)),
  ]);
  const heldSubjects = new Map<string, HoldScope>();
  for (const field of fields) {
    if (heldSubjects.has(field.subject)) continue;
    const hold = holdOf(holds, candidate(view, field));
    if (hold) heldSubjects.set(field.subject, hold);
  }
  return rows.map((row) => mark(row, heldSubjects.get(row.subject)));
}

/** A stored field expiry as a hold sees it: the field's owner and categories from the catalog. */
export function candidate(
  view: CatalogView,
  row: { subject: string; field: string; policy: string; system: string },
): HeldCandidate {
  return {
    subject: row.subject,
    system: view.ownerOf(row.field) ?? row.system,
    categories: view.categoriesOf(row.field),
    policy: row.policy,
  };
}
