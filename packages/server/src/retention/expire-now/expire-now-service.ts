import type { ExpireNowInput, ExpireNowResult } from '@lethe/api';
import { audit } from '../../audit/audit-trail.js';
import { authorize } from '../../auth/permissions.js';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../lib/app-error.js';
import { toIso } from '../../lib/time.js';
import type { Store } from '../../store/store.js';
import type { CatalogCache } from '../catalog-cache.js';
import { subjectExpiry } from '../expiry.js';
import type { FieldExpiryRow } from '../retention-tables.js';

/**
 * Expire now (docs/retention.md "Expire now"): a DPO decides that some or all of a subject's
 * fields are due at once, without a full rights request. The decision is kept on the fields'
 * expiry rows (when, why, who): the fold and recomputes never move those expiries later again,
 * so the decision stands whatever uses arrive after it. A legal hold still wins (the feed shows
 * the field held, not due). Audited as `subject.expire-now`.
 */
export class ExpireNowService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogCache,
  ) {}

  async expire(principal: Principal, subject: string, input: ExpireNowInput): Promise<ExpireNowResult> {
    authorize(principal, 'subjects:expire');
    const visible = (await this.catalog.current()).visibleFields(principal);
    // A category-limited token may only decide about fields it may see: naming another is refused.
    const hidden = input.fields?.find((field) => visible && !visible.has(field));
    if (hidden !== undefined) {
      throw new AppError('CATEGORY_NOT_PERMITTED', `This token may not see field "${hidden}".`);
    }
    // Folding the journal first (inside the transaction) means no older use is folded after the
    // decision and no concurrent fold overwrites it.
    return this.store.transaction(
      async (repository) => {
        const rows = await repository.retention.fieldExpiriesOfSubjects([subject]);
        const seen = visible ? rows.filter((row) => visible.has(row.field)) : rows;
        if (seen.length === 0) {
          throw new AppError(
            'SUBJECT_NOT_FOUND',
            `Lethe holds nothing about subject "${subject}"${visible ? ' that this token may see' : ''}.`,
          );
        }
        const targets = chosenRows(subject, seen, input.fields);
        const now = Date.now();
        for (const row of targets) {
          // Due at once; a field already past its expiry keeps the earlier date.
          row.expires_at = Math.min(row.expires_at, now);
          Object.assign(row, { expire_now_at: now, expire_reason: input.reason, expire_by: principal.id });
          await repository.expireNow.recordDecision(row);
        }
        const decider = subjectExpiry(rows.map((row) => ({ ...row, expiresAt: row.expires_at })));
        if (decider) {
          await repository.retention.updateSubjectExpiry({
            subject,
            expires_at: decider.expires_at,
            field: decider.field,
            policy: decider.policy,
            system: decider.system,
          });
        }
        await audit(repository, principal, 'subject.expire-now', `subject:${subject}`);
        return {
          subject,
          fields: targets.map((row) => ({ field: row.field, expiresAt: toIso(row.expires_at) })),
          expiresAt: toIso(decider?.expires_at ?? now),
          decidedAt: toIso(now),
        };
      },
      { freshAggregates: true },
    );
  }
}

/** The rows named by `fields` (each must have an expiry), or every row given. */
function chosenRows(
  subject: string,
  rows: readonly FieldExpiryRow[],
  fields: readonly string[] | undefined,
): FieldExpiryRow[] {
  if (fields === undefined) return [...rows];
  const byField = new Map(rows.map((row) => [row.field, row]));
  const missing = fields.find((field) => !byField.has(field));
  if (missing !== undefined) {
    throw new AppError(
      'FIELD_NOT_KEPT',
      `Lethe keeps no expiry for field "${missing}" of subject "${subject}".`,
    );
  }
  return [...new Set(fields)].map((field) => byField.get(field) as FieldExpiryRow);
}
