import type { Hold, HoldInput } from '@lethe/api';
import { audit } from '../../audit/audit-trail.js';
import { authorize, maySeeSubjectIds, requireAllCategories } from '../../auth/permissions.js';
import type { ServerSecrets } from '../../auth/server-secrets.js';
import type { Principal } from '../../auth/principal.js';
import { loadTaxonomies } from '../../datamap/datamap-snapshot.js';
import { AppError } from '../../lib/app-error.js';
import { parseInstant, toIso } from '../../lib/time.js';
import type { Repository } from '../../store/repository.js';
import type { Store } from '../../store/store.js';
import type { Written } from '../../datamap/datamap-service.js';
import { requireCategories } from '../system-service.js';
import { holdScope, type HoldScope } from './hold-rules.js';
import type { HoldRow } from './hold-tables.js';

/**
 * Legal holds (docs/retention.md "Legal holds"): a DPO places a hold over subjects, systems,
 * categories or policies; while it stands the fields it covers leave the due feed and show as
 * held. Releasing it deletes the row, so overdue fields are due again at once. Every change is
 * audited with the hold's name; the reason is kept on the hold.
 */
export class HoldService {
  constructor(
    private readonly store: Store,
    private readonly secrets: ServerSecrets,
  ) {}

  async list(principal: Principal): Promise<Hold[]> {
    this.authorizeRead(principal);
    const shown = await this.subjectShown(principal);
    return (await this.store.repository.holds.list()).map((row) => holdRowToHold(row, shown));
  }

  async get(principal: Principal, name: string): Promise<Hold> {
    this.authorizeRead(principal);
    const row = await this.store.repository.holds.get(name);
    if (!row) throw new AppError('HOLD_NOT_FOUND', `No legal hold named "${name}".`);
    return holdRowToHold(row, await this.subjectShown(principal));
  }

  /** A hold spans every category it does not name, so a category-limited token is refused. */
  private authorizeRead(principal: Principal): void {
    authorize(principal, 'holds:read');
    requireAllCategories(principal, 'A legal hold may cover every category');
  }

  /** Real subject ids, or pseudonyms for an auditor without the subject-ids grant. */
  private async subjectShown(principal: Principal): Promise<(subject: string) => string> {
    return maySeeSubjectIds(principal) ? (subject) => subject : this.secrets.pseudonymizer();
  }

  /** Places or changes a hold; a changed hold keeps the time and author it was first placed with. */
  async put(principal: Principal, name: string, input: HoldInput): Promise<{ hold: Hold; created: boolean }> {
    const written = await this.store.transaction((repository) =>
      this.putIn(repository, principal, name, input),
    );
    return { hold: written.value, created: written.created };
  }

  /**
   * `put` inside a caller's transaction (a manifest is applied as one unit). Putting a hold as it
   * stands changes nothing and writes no audit entry, so applying a manifest twice is quiet.
   */
  async putIn(
    repository: Repository,
    principal: Principal,
    name: string,
    input: HoldInput,
  ): Promise<Written<Hold>> {
    authorize(principal, 'holds:write');
    requireAllCategories(principal, 'A legal hold may cover every category');
    await checkScope(repository, input);
    const reviewAt = input.reviewAt === undefined ? null : parseInstant(input.reviewAt);
    if (reviewAt === undefined) {
      throw new AppError('INVALID_TIME', `"${input.reviewAt}" is not an ISO 8601 instant with a zone.`);
    }
    const previous = await repository.holds.get(name);
    const now = Date.now();
    const list = (values: readonly string[] | undefined) =>
      values === undefined ? null : JSON.stringify([...new Set(values)].sort());
    const row: HoldRow = {
      name,
      reason: input.reason,
      subjects: list(input.subjects),
      systems: list(input.systems),
      categories: list(input.categories),
      policies: list(input.policies),
      review_at: reviewAt,
      created_at: previous?.created_at ?? now,
      created_by: previous?.created_by ?? principal.id,
      updated_at: now,
      updated_by: principal.id,
    };
    const shown = (subject: string) => subject;
    if (previous && sameTerms(previous, row)) {
      return { value: holdRowToHold(previous, shown), created: false, changed: false };
    }
    await repository.holds.put(row);
    await audit(repository, principal, previous ? 'hold.change' : 'hold.place', `hold:${name}`);
    return { value: holdRowToHold(row, shown), created: !previous, changed: true };
  }

  /**
   * The standing holds as manifest entries, for `GET /v1/manifest`. A hold naming subjects is left
   * out for a token that sees pseudonyms only: exported pseudonyms applied back would re-aim the
   * hold at nobody. Leaving it out is safe because applying never releases an omitted hold.
   */
  async exportedIn(repository: Repository, principal: Principal): Promise<(HoldInput & { name: string })[]> {
    authorize(principal, 'holds:read');
    const seesSubjects = maySeeSubjectIds(principal);
    return (await repository.holds.list())
      .filter((row) => seesSubjects || row.subjects === null)
      .map((row) => {
        const { name, reason, subjects, systems, categories, policies, reviewAt } = holdRowToHold(
          row,
          (subject) => subject,
        );
        return {
          name,
          reason,
          ...(subjects ? { subjects } : {}),
          ...(systems ? { systems } : {}),
          ...(categories ? { categories } : {}),
          ...(policies ? { policies } : {}),
          ...(reviewAt !== undefined ? { reviewAt } : {}),
        };
      });
  }

  /** Releases a hold: what it kept is due again at once if its expiry has passed. */
  async release(principal: Principal, name: string): Promise<void> {
    authorize(principal, 'holds:write');
    requireAllCategories(principal, 'A legal hold may cover every category');
    await this.store.transaction(async (repository) => {
      if (!(await repository.holds.delete(name))) {
        throw new AppError('HOLD_NOT_FOUND', `No legal hold named "${name}".`);
      }
      await audit(repository, principal, 'hold.release', `hold:${name}`);
    });
  }
}

/** The standing holds in lookup form, read in `repository` (every feed read sees the latest). */
export async function standingHolds(repository: Repository): Promise<HoldScope[]> {
  return (await repository.holds.list()).map(holdScope);
}

/** Names in a hold must exist: a hold over a mistyped system would protect nothing. */
async function checkScope(repository: Repository, input: HoldInput): Promise<void> {
  const catalog = await repository.retention.loadCatalog();
  const systems = new Set(catalog.systems.map((system) => system.name));
  const unknownSystem = input.systems?.find((system) => !systems.has(system));
  if (unknownSystem !== undefined) {
    throw new AppError(
      'SYSTEM_NOT_FOUND',
      `The hold names system "${unknownSystem}", which is not in the map.`,
    );
  }
  const policies = new Set(catalog.policies.map((policy) => policy.name));
  const unknownPolicy = input.policies?.find((policy) => !policies.has(policy));
  if (unknownPolicy !== undefined) {
    throw new AppError('POLICY_NOT_FOUND', `The hold names policy "${unknownPolicy}", which does not exist.`);
  }
  if (input.categories) {
    requireCategories((await loadTaxonomies(repository)).categories, input.categories, 'the hold');
  }
}

/** Whether two rows of one hold say the same: its reason, scope and review date. */
function sameTerms(a: HoldRow, b: HoldRow): boolean {
  return (
    a.reason === b.reason &&
    a.subjects === b.subjects &&
    a.systems === b.systems &&
    a.categories === b.categories &&
    a.policies === b.policies &&
    a.review_at === b.review_at
  );
}

function holdRowToHold(row: HoldRow, showSubject: (subject: string) => string): Hold {
  const list = (json: string | null) => (json === null ? undefined : (JSON.parse(json) as string[]));
  const subjects = list(row.subjects)?.map(showSubject);
  const systems = list(row.systems);
  const categories = list(row.categories);
  const policies = list(row.policies);
  return {
    name: row.name,
    reason: row.reason,
    ...(subjects ? { subjects } : {}),
    ...(systems ? { systems } : {}),
    ...(categories ? { categories } : {}),
    ...(policies ? { policies } : {}),
    ...(row.review_at !== null ? { reviewAt: toIso(row.review_at) } : {}),
    createdAt: toIso(row.created_at),
    createdBy: row.created_by,
    updatedAt: toIso(row.updated_at),
    updatedBy: row.updated_by,
  };
}
