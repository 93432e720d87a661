import type {
  ErasureInput,
  ErasureResult,
  ExpiryItem,
  ExpiryPage,
  ExpiryQuery,
  Reappearance,
  SubjectRetention,
} from '@lethe/api';
import { authorize, mayActForSystem } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../domain/app-error.js';
import { DAY_MS, parseDay, parseInstant, toIso } from '../domain/time.js';
import type { ExpiryRange, ExpiryRow } from '../store/repository.js';
import type { Store } from '../store/store.js';
import type { CatalogCache } from './catalog-cache.js';
import { decodeCursor, encodeCursor } from './cursor.js';

const DEFAULT_PAGE = 1_000;
/** Rows fetched per query while streaming: large enough to amortise, small enough to stay flat. */
const STREAM_CHUNK = 2_000;

export class RetentionService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogCache,
  ) {}

  /** "Why do we still hold this?": every field of the subject, its expiry and every use behind it. */
  async subject(principal: Principal, subject: string): Promise<SubjectRetention> {
    authorize(principal, 'subjects:read');
    const repository = this.store.repository;
    const [subjectRow, fieldRows, usages, view] = await Promise.all([
      repository.getSubjectExpiry(subject),
      repository.fieldExpiriesOfSubjects([subject]),
      repository.usagesOfSubjects([subject]),
      this.catalog.current(),
    ]);
    if (!subjectRow)
      throw new AppError('SUBJECT_NOT_FOUND', `Lethe holds nothing about subject "${subject}".`);
    return {
      subject,
      expiresAt: toIso(subjectRow.expires_at),
      decidedBy: { field: subjectRow.field, policy: subjectRow.policy, system: subjectRow.system },
      fields: fieldRows.map((row) => ({
        field: row.field,
        expiresAt: toIso(row.expires_at),
        policy: row.policy,
        system: row.system,
        lastUseAt: toIso(row.last_use_at),
        ...(row.erased_at !== null ? { erasedAt: toIso(row.erased_at) } : {}),
        ...(row.reappeared_at !== null ? { reappearedAt: toIso(row.reappeared_at) } : {}),
        uses: usages
          .filter((usage) => usage.field === row.field)
          .map((usage) => ({
            policy: usage.policy,
            system: usage.last_system,
            firstUseAt: toIso(usage.first_use_at),
            lastUseAt: toIso(usage.last_use_at),
            count: usage.use_count,
            keepsUntil: toIso(view.retentionEnd(usage.policy, usage.last_use_at)),
          })),
      })),
    };
  }

  /** One page of the expiry feed. */
  async expiries(principal: Principal, query: ExpiryQuery): Promise<ExpiryPage> {
    const plan = await this.plan(principal, query);
    const limit = query.limit ?? DEFAULT_PAGE;
    const rows = await this.fetch(plan, { ...plan.range, limit: limit + 1 });
    const items = rows.slice(0, limit).map(expiryRowToItem);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return last ? { items, next: encodeCursor([last.expires_at, last.subject, last.field]) } : { items };
  }

  /**
   * The whole feed for the query, fetched a chunk at a time so memory stays flat however long it
   * is. The query is checked before this resolves, so errors are answered before streaming starts.
   */
  async streamExpiries(principal: Principal, query: ExpiryQuery): Promise<AsyncIterable<ExpiryItem>> {
    const plan = await this.plan(principal, query);
    const fetch = (range: ExpiryRange) => this.fetch(plan, range);
    return (async function* () {
      let range: ExpiryRange = { ...plan.range, limit: STREAM_CHUNK };
      for (;;) {
        const rows = await fetch(range);
        for (const row of rows) yield expiryRowToItem(row);
        const last = rows[rows.length - 1];
        if (!last || rows.length < STREAM_CHUNK) return;
        range = { ...range, after: { expiresAt: last.expires_at, subject: last.subject, field: last.field } };
      }
    })();
  }

  /** A system confirms it deleted fields of a subject; later uses of them are flagged as re-appearances. */
  async recordErasure(principal: Principal, subject: string, input: ErasureInput): Promise<ErasureResult> {
    authorize(principal, 'erasures:write');
    if (!mayActForSystem(principal, input.system)) {
      throw new AppError(
        'SYSTEM_NOT_PERMITTED',
        `This token may not confirm erasures for "${input.system}".`,
      );
    }
    const view = await this.catalog.current();
    if (!view.hasSystem(input.system))
      throw new AppError('SYSTEM_NOT_FOUND', `No system named "${input.system}".`);
    const now = Date.now();
    const erasedAt = input.at === undefined ? now : parseInstant(input.at);
    if (erasedAt === undefined || erasedAt > now + 60_000) {
      throw new AppError('INVALID_TIME', `"${input.at}" is not a past ISO 8601 instant with a zone.`);
    }
    const undeclared = input.fields?.find((field) => !view.isDeclaredField(field));
    if (undeclared !== undefined) {
      throw new AppError('FIELD_NOT_DECLARED', `Field "${undeclared}" is not declared by any dataset.`);
    }
    return this.store.transaction(async (repository) => {
      const held = await repository.fieldExpiriesOfSubjects([subject]);
      if (held.length === 0)
        throw new AppError('SUBJECT_NOT_FOUND', `Lethe holds nothing about subject "${subject}".`);
      const wanted = new Set(input.fields ?? view.fieldsOfSystem(input.system));
      const fields = held.map((row) => row.field).filter((field) => wanted.has(field));
      if (fields.length === 0) {
        throw new AppError(
          'NOTHING_TO_ERASE',
          `Subject "${subject}" has none of those fields of "${input.system}".`,
        );
      }
      await repository.recordErasures(
        fields.map((field) => ({
          subject,
          field,
          system: input.system,
          erased_at: erasedAt,
          recorded_at: now,
          recorded_by: principal.id,
        })),
      );
      return { subject, system: input.system, fields, erasedAt: toIso(erasedAt) };
    });
  }

  /** Subject-fields used again after a confirmed erasure: the data came back from somewhere. */
  async reappearances(
    principal: Principal,
    cursor: string | undefined,
    limit = DEFAULT_PAGE,
  ): Promise<{ items: Reappearance[]; next?: string }> {
    authorize(principal, 'subjects:read');
    const after = cursor ? decodeCursor(cursor, ['number', 'string', 'string']) : undefined;
    const rows = await this.store.repository.reappearances(
      after
        ? { reappearedAt: after[0] as number, subject: after[1] as string, field: after[2] as string }
        : undefined,
      limit + 1,
    );
    const items = rows.slice(0, limit).map((row) => ({
      subject: row.subject,
      field: row.field,
      erasedAt: toIso(row.erased_at ?? 0),
      ...(row.reappeared_at !== null ? { reappearedAt: toIso(row.reappeared_at) } : {}),
      lastUseAt: toIso(row.last_use_at),
      system: row.system,
    }));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return last
      ? { items, next: encodeCursor([last.reappeared_at ?? 0, last.subject, last.field]) }
      : { items };
  }

  private async plan(principal: Principal, query: ExpiryQuery) {
    authorize(principal, 'expiries:read');
    const level = query.level ?? 'field';
    const { from, to } = dayRange(query);
    const view = await this.catalog.current();
    let fields: string[] | undefined;
    const narrow = (allowed: string[]) => {
      fields = fields ? fields.filter((field) => allowed.includes(field)) : allowed;
    };
    if (principal.role === 'service') narrow(view.fieldsOfSystem(principal.system ?? ''));
    if (query.system !== undefined) {
      if (!view.hasSystem(query.system))
        throw new AppError('SYSTEM_NOT_FOUND', `No system named "${query.system}".`);
      narrow(view.fieldsOfSystem(query.system));
    }
    if (query.dataset !== undefined) narrow(view.fieldsOfDataset(query.dataset));
    if (query.field !== undefined) narrow([query.field]);
    const after = query.cursor ? decodeCursor(query.cursor, ['number', 'string', 'string']) : undefined;
    const range: Omit<ExpiryRange, 'limit'> = {
      from,
      to,
      ...(fields ? { fields } : {}),
      ...(after
        ? { after: { expiresAt: after[0] as number, subject: after[1] as string, field: after[2] as string } }
        : {}),
    };
    return { level, range };
  }

  private async fetch(plan: { level: 'field' | 'subject' }, range: ExpiryRange): Promise<ExpiryRow[]> {
    // Filters that leave no field (a system without datasets, a field of another system) match nothing.
    if (range.fields?.length === 0) return [];
    return plan.level === 'subject'
      ? this.store.repository.subjectExpiryPage(range)
      : this.store.repository.fieldExpiryPage(range);
  }
}

/** `day=D` is that day; `from`/`to` are inclusive days; the result is a half-open ms range. */
function dayRange(query: ExpiryQuery): { from: number; to: number } {
  if (query.day !== undefined && (query.from !== undefined || query.to !== undefined)) {
    throw new AppError('INVALID_RANGE', 'Give either day or from/to, not both.');
  }
  const first = query.day ?? query.from;
  const last = query.day ?? query.to ?? query.from;
  if (first === undefined || last === undefined)
    throw new AppError('INVALID_RANGE', 'Give day, or from (and to).');
  const from = parseDay(first);
  const lastDay = parseDay(last);
  if (from === undefined) throw new AppError('INVALID_DAY', `"${first}" is not a valid YYYY-MM-DD day.`);
  if (lastDay === undefined) throw new AppError('INVALID_DAY', `"${last}" is not a valid YYYY-MM-DD day.`);
  if (lastDay < from) throw new AppError('INVALID_RANGE', `to (${last}) is before from (${first}).`);
  return { from, to: lastDay + DAY_MS };
}

/** At subject level, `field`, `policy` and `system` name the field that keeps the subject longest. */
function expiryRowToItem(row: ExpiryRow): ExpiryItem {
  return {
    subject: row.subject,
    field: row.field,
    expiresAt: toIso(row.expires_at),
    policy: row.policy,
    system: row.system,
  };
}
