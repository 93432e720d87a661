import type {
  ErasureInput,
  ErasureResult,
  ExpiryItem,
  ExpiryPage,
  ExpiryQuery,
  DueQuery,
  Reappearance,
  SubjectField,
  SubjectRetention,
} from '@lethe/api';
import { authorize, mayActForSystem, maySeeSubjectIds } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { NO_CONSENT } from '../consent/consent.js';
import { usageKeepsUntil, WAITING, type SubjectAging } from './expiry.js';
import { eventOf } from './aging/aging.js';
import { DAY_MS, parseDay, parseInstant, toIso } from '../lib/time.js';
import type { ExpiryRange, ExpiryRow, SubjectRowCounts } from './retention-queries.js';
import type { ErasureRow, FieldExpiryRow, SubjectExpiryRow } from './retention-tables.js';
import type { ConsentStateRow } from '../consent/consent-tables.js';
import type { Repository } from '../store/repository.js';
import type { Store } from '../store/store.js';
import { audit, auditedRead, auditRead } from '../audit/audit-trail.js';
import type { CatalogCache, CatalogView } from './catalog-cache.js';
import { forgetConsentViolationsIn, purposeStates } from '../consent/consent-service.js';
import { CursorCodec } from '../lib/cursor.js';
import { candidate, markRows } from './holds/feed-marks.js';
import { holdOf } from './holds/hold-rules.js';
import { standingHolds } from './holds/hold-service.js';
import type { ServerSecrets } from '../auth/server-secrets.js';

const DEFAULT_PAGE = 1_000;
/** Rows fetched per query while streaming: large enough to amortise, small enough to stay flat. */
const STREAM_CHUNK = 2_000;

export class RetentionService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogCache,
    private readonly secrets: ServerSecrets,
  ) {}

  /**
   * "Why do we still hold this?": every field of the subject the principal may see, its expiry
   * and every use behind it. Answered only once the read's audit entry is durable.
   */
  async subject(principal: Principal, subject: string): Promise<SubjectRetention> {
    authorize(principal, 'subjects:read');
    if (!maySeeSubjectIds(principal)) throw new AppError('SUBJECT_IDS_NOT_GRANTED');
    return auditedRead(this.store, principal, 'subject.read', `subject:${subject}`, () =>
      this.readSubject(principal, subject),
    );
  }

  private async readSubject(principal: Principal, subject: string): Promise<SubjectRetention> {
    await this.store.freshAggregates();
    const view = await this.catalog.current();
    const held = await readSubjectIn(this.store.repository, view, subject);
    const visible = view.visibleFields(principal);
    const fieldRows = visible ? held.fieldRows.filter((row) => visible.has(row.field)) : held.fieldRows;
    // A category-limited token gets the subject's expiry over the fields it may see only.
    const subjectRow = visible ? latestExpiry(fieldRows) : held.expiry;
    if (!subjectRow) {
      throw new AppError(
        'SUBJECT_NOT_FOUND',
        `Lethe holds nothing about subject "${subject}"${visible ? ' that this token may see' : ''}.`,
      );
    }
    const holds = await standingHolds(this.store.repository);
    const fields = held.fields.flatMap((field, index) => {
      if (visible && !visible.has(field.field)) return [];
      const hold = holds.length ? holdOf(holds, candidate(view, held.fieldRows[index]!)) : undefined;
      return [hold ? { ...field, hold: hold.mark } : field];
    });
    return {
      subject,
      expiresAt: toIso(subjectRow.expires_at),
      decidedBy: { field: subjectRow.field, policy: subjectRow.policy, system: subjectRow.system },
      fields,
      ...(held.events.size
        ? { events: Object.fromEntries([...held.events].map(([name, at]) => [name, toIso(at)])) }
        : {}),
      consent: purposeStates(held.consent),
    };
  }

  /** One page of the expiry feed. */
  async expiries(principal: Principal, query: ExpiryQuery): Promise<ExpiryPage> {
    const plan = await this.plan(principal, query);
    const limit = query.limit ?? DEFAULT_PAGE;
    const rows = await this.fetch(plan, { ...plan.range, limit: limit + 1 });
    const items = await plan.toItems(rows.slice(0, limit));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return last
      ? { items, next: plan.cursors.encode([last.expires_at, last.subject, last.field]) }
      : { items };
  }

  /**
   * What a system must delete now: every field whose expiry has passed, on any past day, that no
   * erasure acknowledged and no hold keeps. A system that was down for a week catches up with
   * this call (following `next`). A page may hold fewer items than `limit` when held rows were
   * left out; only the absence of `next` means the end.
   */
  async due(principal: Principal, query: DueQuery): Promise<ExpiryPage> {
    const now = Date.now();
    const plan = await this.plan(principal, query, { from: Number.MIN_SAFE_INTEGER, to: now + 1 });
    const limit = query.limit ?? DEFAULT_PAGE;
    const rows = await this.fetch(plan, { ...plan.range, limit: limit + 1 });
    const items = (await plan.toItems(rows.slice(0, limit))).filter((item) => item.status === 'due');
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return last
      ? { items, next: plan.cursors.encode([last.expires_at, last.subject, last.field]) }
      : { items };
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
        yield* await plan.toItems(rows);
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
    if (principal.role === 'service') {
      // A service confirms the erasures of what its own system owns, never another system's fields.
      const own = view.fieldsOfSystem(input.system);
      const foreign = input.fields?.find((field) => !own.includes(field));
      if (foreign !== undefined) {
        throw new AppError(
          'SYSTEM_NOT_PERMITTED',
          `Field "${foreign}" is not owned by "${input.system}"; this token confirms erasures of its own fields only.`,
        );
      }
    }
    const visible = view.visibleFields(principal);
    const hidden = input.fields?.find((field) => visible && !visible.has(field));
    if (hidden !== undefined) throw categoryNotPermitted(hidden);
    return this.store.transaction(
      async (repository) => {
        const held = await repository.retention.fieldExpiriesOfSubjects([subject]);
        if (held.length === 0)
          throw new AppError('SUBJECT_NOT_FOUND', `Lethe holds nothing about subject "${subject}".`);
        const wanted = new Set(
          (input.fields ?? view.fieldsOfSystem(input.system)).filter(
            (field) => !visible || visible.has(field),
          ),
        );
        const fields = held.map((row) => row.field).filter((field) => wanted.has(field));
        if (fields.length === 0) {
          throw new AppError(
            'NOTHING_TO_ERASE',
            `Subject "${subject}" has none of those fields of "${input.system}".`,
          );
        }
        await repository.retention.recordErasures(
          fields.map((field) => ({
            subject,
            field,
            system: input.system,
            erased_at: erasedAt,
            recorded_at: now,
            recorded_by: principal.id,
          })),
        );
        await audit(repository, principal, 'erasure.record', `subject:${subject}`);
        return { subject, system: input.system, fields, erasedAt: toIso(erasedAt) };
      },
      { freshAggregates: true },
    );
  }

  /** Subject-fields used again after a confirmed erasure: the data came back from somewhere. */
  async reappearances(
    principal: Principal,
    cursor: string | undefined,
    limit = DEFAULT_PAGE,
  ): Promise<{ items: Reappearance[]; next?: string }> {
    authorize(principal, 'subjects:read');
    const cursors = await this.cursors();
    const after = cursor ? cursors.decode(cursor, ['number', 'string', 'string']) : undefined;
    const view = await this.catalog.current();
    const visible = view.visibleFields(principal);
    if (visible?.size === 0) return { items: [] };
    const showSubject = await this.subjectShown(principal);
    await auditRead(this.store, principal, 'reappearances.read', 'reappearances');
    await this.store.freshAggregates();
    const rows = await this.store.repository.retention.reappearances(
      after
        ? { reappearedAt: after[0] as number, subject: after[1] as string, field: after[2] as string }
        : undefined,
      limit + 1,
      visible ? [...visible] : undefined,
    );
    const items = rows.slice(0, limit).map((row) => ({
      subject: showSubject(row.subject),
      field: row.field,
      erasedAt: toIso(row.erased_at ?? 0),
      ...(row.reappeared_at !== null ? { reappearedAt: toIso(row.reappeared_at) } : {}),
      lastUseAt: toIso(row.last_use_at),
      system: row.system,
    }));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return last
      ? { items, next: cursors.encode([last.reappeared_at ?? 0, last.subject, last.field]) }
      : { items };
  }

  private async cursors(): Promise<CursorCodec> {
    return new CursorCodec(await this.secrets.key('cursors'));
  }

  /** Real ids, or pseudonyms for a principal that may not see them. */
  private async subjectShown(principal: Principal): Promise<(subject: string) => string> {
    return maySeeSubjectIds(principal) ? (subject) => subject : this.secrets.pseudonymizer();
  }

  private async plan(principal: Principal, query: ExpiryQuery, window?: { from: number; to: number }) {
    authorize(principal, 'expiries:read');
    const level = query.level ?? 'field';
    const { from, to } = window ?? dayRange(query);
    const view = await this.catalog.current();
    let fields: string[] | undefined;
    const narrow = (allowed: string[]) => {
      fields = fields ? fields.filter((field) => allowed.includes(field)) : allowed;
    };
    if (principal.role === 'service') {
      const own = view.fieldsOfSystem(principal.system ?? '');
      // Asking for another system's part of the feed is refused, not answered with an empty page.
      const foreign =
        (query.system !== undefined && query.system !== principal.system) ||
        (query.dataset !== undefined && !view.fieldsOfDataset(query.dataset).every((f) => own.includes(f))) ||
        (query.field !== undefined && !own.includes(query.field));
      if (foreign) {
        throw new AppError(
          'SYSTEM_NOT_PERMITTED',
          `This token reads the expiries of "${principal.system}" only.`,
        );
      }
      narrow(own);
    }
    const visible = view.visibleFields(principal);
    if (visible) {
      if (level === 'subject') {
        throw new AppError(
          'CATEGORY_NOT_PERMITTED',
          'A subject-level expiry combines every field of the subject; a category-limited token reads level=field.',
        );
      }
      if (query.field !== undefined && !visible.has(query.field)) throw categoryNotPermitted(query.field);
      narrow([...visible]);
    }
    if (query.system !== undefined) {
      if (!view.hasSystem(query.system))
        throw new AppError('SYSTEM_NOT_FOUND', `No system named "${query.system}".`);
      narrow(view.fieldsOfSystem(query.system));
    }
    if (query.dataset !== undefined) narrow(view.fieldsOfDataset(query.dataset));
    if (query.field !== undefined) narrow([query.field]);
    const cursors = await this.cursors();
    const after = query.cursor ? cursors.decode(query.cursor, ['number', 'string', 'string']) : undefined;
    const range: Omit<ExpiryRange, 'limit'> = {
      from,
      to,
      ...(fields ? { fields } : {}),
      ...(after
        ? { after: { expiresAt: after[0] as number, subject: after[1] as string, field: after[2] as string } }
        : {}),
    };
    const showSubject = await this.subjectShown(principal);
    await auditRead(this.store, principal, 'expiries.read', describeFeedQuery(query));
    // Once per query: a streamed feed sees every event acknowledged before it was asked for.
    await this.store.freshAggregates();
    const holds = await standingHolds(this.store.repository);
    const now = Date.now();
    const toItems = async (rows: readonly ExpiryRow[]): Promise<ExpiryItem[]> => {
      const marks = await markRows(this.store.repository, view, holds, now, level, rows);
      return rows.map((row, index) => ({
        ...expiryRowToItem(row),
        subject: showSubject(row.subject),
        ...marks[index]!,
      }));
    };
    return { level, range, cursors, toItems };
  }

  private async fetch(plan: { level: 'field' | 'subject' }, range: ExpiryRange): Promise<ExpiryRow[]> {
    // Filters that leave no field (a system without datasets, a field of another system) match nothing.
    if (range.fields?.length === 0) return [];
    return plan.level === 'subject'
      ? this.store.repository.retention.subjectExpiryPage(range)
      : this.store.repository.retention.fieldExpiryPage(range);
  }
}

/** What retention holds about one subject, as the subject view shows it (every field). */
export interface SubjectHeld {
  /** The subject's expiry and the field that decides it; undefined when nothing is held. */
  readonly expiry: SubjectExpiryRow | undefined;
  readonly fieldRows: readonly FieldExpiryRow[];
  /** One per field row, in the same order: expiry, erasure and every use behind it. */
  readonly fields: readonly SubjectField[];
  readonly consent: readonly ConsentStateRow[];
  /** Erasures systems confirmed for this subject, oldest first. */
  readonly erasures: readonly ErasureRow[];
  /** The subject's events, first occurrence per name (`event:` policies count from them). */
  readonly events: ReadonlyMap<string, number>;
}

/**
 * Reads the subject's fields, uses, expiries, erasures and consent states in `repository` (the
 * store's, or a caller's transaction: a DSAR takes its snapshot in the one that completes it).
 * No permission check and no audit: the caller does both.
 */
export async function readSubjectIn(
  repository: Repository,
  view: CatalogView,
  subject: string,
): Promise<SubjectHeld> {
  const { expiry, fieldRows, usages, consent, erasures } = await repository.retention.subjectRows(subject);
  const events =
    (await repository.subjectEvents.firstOccurrences([subject])).get(subject) ?? new Map<string, number>();
  const aging: SubjectAging = { agingOf: view.agingOf, eventAt: (name) => events.get(name) };
  /** The event a use (or the use deciding a field) still waits for. */
  const waitingFor = (policy: string, keepsUntil: number): string | undefined => {
    const event = eventOf(view.agingOf(policy));
    return event !== undefined && keepsUntil === WAITING && !events.has(event) ? event : undefined;
  };
  const consentWindowOf = (policy: string) => {
    const purpose = view.consentPurpose(policy);
    if (purpose === undefined) return undefined;
    const state = consent.find((row) => row.purpose === purpose);
    return state ? { grantedAt: state.granted_at, withdrawnAt: state.withdrawn_at } : NO_CONSENT;
  };
  const fields = fieldRows.map((row) => ({
    field: row.field,
    expiresAt: toIso(row.expires_at),
    policy: row.policy,
    system: row.system,
    lastUseAt: toIso(row.last_use_at),
    ...(row.erased_at !== null ? { erasedAt: toIso(row.erased_at) } : {}),
    ...(row.reappeared_at !== null ? { reappearedAt: toIso(row.reappeared_at) } : {}),
    ...optional('waitingFor', waitingFor(row.policy, row.expires_at)),
    ...(row.expire_now_at !== null
      ? {
          expireNow: {
            at: toIso(row.expire_now_at),
            reason: row.expire_reason ?? '',
            by: row.expire_by ?? '',
          },
        }
      : {}),
    uses: usages
      .filter((usage) => usage.field === row.field)
      .map((usage) => {
        const consentPurpose = view.consentPurpose(usage.policy);
        const keepsUntil = usageKeepsUntil(
          {
            policy: usage.policy,
            firstUseAt: usage.first_use_at,
            lastUseAt: usage.last_use_at,
            lastSystem: usage.last_system,
            lastConsentedUseAt: usage.last_consented_use_at,
          },
          view.retentionEnd,
          consentWindowOf(usage.policy),
          aging,
        );
        return {
          policy: usage.policy,
          system: usage.last_system,
          firstUseAt: toIso(usage.first_use_at),
          lastUseAt: toIso(usage.last_use_at),
          count: Number(usage.use_count),
          keepsUntil: toIso(keepsUntil),
          ...optional('waitingFor', waitingFor(usage.policy, keepsUntil)),
          ...(consentPurpose !== undefined
            ? {
                consentPurpose,
                ...(usage.last_consented_use_at !== null
                  ? { lastConsentedUseAt: toIso(usage.last_consented_use_at) }
                  : {}),
              }
            : {}),
        };
      }),
  }));
  return { expiry, fieldRows, fields, consent, erasures, events };
}

/** `{ [key]: value }` when there is a value, `{}` otherwise (optional answer properties). */
function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: string });
}

/**
 * Forgets what Lethe's retention keeps about a subject a completed delete removed: its uses,
 * field and subject expiries, confirmed erasures and its consent violations, in the caller's
 * transaction, with one audit entry that names the request and the counts, not the subject.
 * The consent history stays (Art. 7(1) proof) and so does the audit trail. Idempotent: a second
 * run deletes nothing and says so.
 */
export async function forgetSubjectIn(
  repository: Repository,
  principal: Principal,
  subject: string,
  reason: string,
): Promise<SubjectRowCounts & { consentViolations: number }> {
  const counts = await repository.retention.deleteSubject(subject);
  const consentViolations = await forgetConsentViolationsIn(repository, subject);
  await audit(
    repository,
    principal,
    'subject.forget',
    `${reason} usages=${counts.usages} field_expiries=${counts.fieldExpiries} ` +
      `subject_expiries=${counts.subjectExpiries} erasures=${counts.erasures} consent_violations=${consentViolations}`,
  );
  return { ...counts, consentViolations };
}

function categoryNotPermitted(field: string): AppError {
  return new AppError('CATEGORY_NOT_PERMITTED', `This token may not see field "${field}".`);
}

/** The field row that keeps the subject longest, as a subject-level expiry. */
function latestExpiry<Row extends ExpiryRow>(rows: readonly Row[]): Row | undefined {
  return rows.reduce<Row | undefined>(
    (latest, row) => (!latest || row.expires_at > latest.expires_at ? row : latest),
    undefined,
  );
}

/** The audit target of a feed read: which slice of the feed, not the page position. */
function describeFeedQuery(query: ExpiryQuery): string {
  const parts = Object.entries(query)
    .filter(([key, value]) => value !== undefined && key !== 'cursor' && key !== 'limit')
    .map(([key, value]) => `${key}=${String(value)}`);
  return `expiries:${parts.join('&')}`;
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
function expiryRowToItem(row: ExpiryRow): Omit<ExpiryItem, 'status'> {
  return {
    subject: row.subject,
    field: row.field,
    expiresAt: toIso(row.expires_at),
    policy: row.policy,
    system: row.system,
  };
}
