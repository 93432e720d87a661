import { randomUUID } from 'node:crypto';
import type {
  ConsentImportResult,
  ConsentInput,
  ConsentPurposeState,
  ConsentRecord,
  ConsentViolationPage,
  ConsentViolationQuery,
  ConsentWriteResult,
  SubjectConsent,
} from '@lethe/api';
import { authorize, maySeeSubjectIds } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { consentWindow, inConsentOrder } from './consent.js';
import { groupBy } from '../lib/group-by.js';
import {
  CsvFormatError,
  parseConsentCsv,
  parseConsentNdjson,
  type ConsentImportError,
} from './consent-import.js';
import { decodeTcfConsent } from './tcf-consent.js';
import { parseInstant, toIso } from '../lib/time.js';
import type { Taxonomy } from '../lib/taxonomy.js';
import type { Repository } from '../store/repository.js';
import type { ConsentEventRow, ConsentStateRow } from './consent-tables.js';
import type { Store } from '../store/store.js';
import { audit, auditRead } from '../audit/audit-trail.js';
import { CatalogView } from '../retention/catalog-cache.js';
import { CursorCodec } from '../lib/cursor.js';
import { loadTaxonomies } from '../datamap/datamap-snapshot.js';
import { recomputeSubjectExpiries } from '../retention/retention-recompute.js';
import type { ServerSecrets } from '../auth/server-secrets.js';
import { byCodeUnit } from '../lib/by-code-unit.js';

/** How far in the future `at` may lie (clock skew), as for telemetry. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const DEFAULT_PAGE = 1_000;

/** What proves one grant or withdrawal; the columns of `consent_events` beside the decision. */
interface ConsentProof {
  readonly notice?: string | undefined;
  readonly noticeVersion?: string | undefined;
  readonly source?: string | undefined;
  readonly method?: string | undefined;
  readonly channel?: string | undefined;
  readonly url?: string | undefined;
  readonly tcString?: string | undefined;
}

/** One grant or withdrawal of one purpose, checked and dated, with its proof. */
interface ConsentDecision {
  readonly purpose: string;
  readonly granted: boolean;
  readonly at: number;
  readonly proof: ConsentProof;
}

/** A validated consent statement about one subject, ready to record. */
interface ConsentStatement {
  readonly subject: string;
  readonly decisions: readonly ConsentDecision[];
}

export type ConsentImportFormat = 'ndjson' | 'csv';

/**
 * Consent per subject and purpose (docs/consent.md): records grants and withdrawals with their
 * proof, derives the state from the whole history, and recomputes the subject's expiries in the
 * same transaction, so that a withdrawal moves the expiry feed at once.
 */
export class ConsentService {
  constructor(
    private readonly store: Store,
    private readonly secrets: ServerSecrets,
  ) {}

  async put(principal: Principal, subject: string, input: ConsentInput): Promise<ConsentWriteResult> {
    authorize(principal, 'consent:write');
    const { purposes } = await loadTaxonomies(this.store.repository);
    const statement = checkStatement(subject, input, purposes, Date.now());
    return this.store.transaction(
      async (repository) => {
        const { recorded, recomputed } = await this.recordIn(repository, principal, [statement]);
        await audit(repository, principal, 'consent.record', `subject:${subject}`);
        const states = await repository.consent.statesOfSubjects([subject]);
        return { subject, purposes: purposeStates(states), recorded, recomputed };
      },
      { freshAggregates: true },
    );
  }

  async get(principal: Principal, subject: string): Promise<SubjectConsent> {
    authorize(principal, 'consent:read');
    if (!maySeeSubjectIds(principal)) throw new AppError('SUBJECT_IDS_NOT_GRANTED');
    await auditRead(this.store, principal, 'consent.read', `subject:${subject}`);
    const repository = this.store.repository;
    const [states, events] = await Promise.all([
      repository.consent.statesOfSubjects([subject]),
      repository.consent.eventsOfSubjects([subject]),
    ]);
    // Nothing recorded is an answer too: no consent for any purpose.
    return {
      subject,
      purposes: purposeStates(states),
      history: inConsentOrder(events.map(toChange)).map((change) => toRecord(change.row)),
    };
  }

  /**
   * Records an import file in one transaction: every good line, the recompute of every subject
   * it touches, one audit entry. Bad lines are answered with their line number and code.
   */
  async import(
    principal: Principal,
    format: ConsentImportFormat,
    text: string,
  ): Promise<ConsentImportResult> {
    authorize(principal, 'consent:write');
    let parsed;
    try {
      parsed = format === 'csv' ? parseConsentCsv(text) : parseConsentNdjson(text);
    } catch (error) {
      if (error instanceof CsvFormatError) {
        throw new AppError('CSV_INVALID', error.message, { line: error.line });
      }
      throw error;
    }
    const { purposes } = await loadTaxonomies(this.store.repository);
    const now = Date.now();
    const rejected: ConsentImportError[] = [...parsed.errors];
    const statements: ConsentStatement[] = [];
    for (const record of parsed.records) {
      try {
        statements.push(checkStatement(record.subject, record.input, purposes, now));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        rejected.push({ line: record.line, code: error.code, message: error.message });
      }
    }
    rejected.sort((a, b) => a.line - b.line);
    const subjects = new Set(statements.map((statement) => statement.subject));
    const written = statements.length
      ? await this.store.transaction(
          async (repository) => {
            const result = await this.recordIn(repository, principal, statements);
            await audit(
              repository,
              principal,
              'consent.import',
              `consent-import:records=${result.recorded.length} subjects=${subjects.size}`,
            );
            return result;
          },
          { freshAggregates: true },
        )
      : { recorded: [], recomputed: 0 };
    return {
      recorded: written.recorded.length,
      subjects: subjects.size,
      recomputed: written.recomputed,
      rejected,
    };
  }

  /** Uses under consent-based policies made without consent, newest first. */
  async violations(principal: Principal, query: ConsentViolationQuery): Promise<ConsentViolationPage> {
    authorize(principal, 'consent:read');
    const showIds = maySeeSubjectIds(principal);
    // Filtering by a subject id is a lookup by id: only for those who may see ids.
    if (query.subject !== undefined && !showIds) throw new AppError('SUBJECT_IDS_NOT_GRANTED');
    const after = query.after === undefined ? undefined : parseInstant(query.after);
    if (query.after !== undefined && after === undefined) {
      throw new AppError('INVALID_TIME', `"${query.after}" is not an ISO 8601 instant with a zone.`);
    }
    const cursors = new CursorCodec(await this.secrets.key('cursors'));
    const position = query.cursor
      ? cursors.decode(query.cursor, ['number', 'string', 'string', 'string'])
      : undefined;
    const show = showIds ? (subject: string) => subject : await this.secrets.pseudonymizer();
    await auditRead(this.store, principal, 'consent.violations.read', 'consent-violations');
    await this.store.freshAggregates();
    const limit = query.limit ?? DEFAULT_PAGE;
    if (position && query.offset !== undefined) {
      throw new AppError('VALIDATION_FAILED', 'Page with `cursor` or with `offset`, not both.', {
        field: 'offset',
      });
    }
    const filter = {
      ...(query.subject !== undefined ? { subject: query.subject } : {}),
      ...(query.policy !== undefined ? { policy: query.policy } : {}),
      ...(query.system !== undefined ? { system: query.system } : {}),
      ...(after !== undefined ? { after } : {}),
    };
    const [rows, total] = await Promise.all([
      this.store.repository.consent.violations(filter, {
        limit: limit + 1,
        ...(query.offset !== undefined ? { offset: query.offset } : {}),
        ...(position
          ? {
              position: {
                lastAt: position[0] as number,
                subject: position[1] as string,
                policy: position[2] as string,
                system: position[3] as string,
              },
            }
          : {}),
      }),
      this.store.repository.consent.countViolations(filter),
    ]);
    const items = rows.slice(0, limit).map((row) => ({
      subject: show(row.subject),
      policy: row.policy,
      system: row.system,
      purpose: row.purpose,
      firstAt: toIso(row.first_at),
      lastAt: toIso(row.last_at),
      count: row.use_count,
    }));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return last
      ? { items, total, next: cursors.encode([last.last_at, last.subject, last.policy, last.system]) }
      : { items, total };
  }

  /**
   * Appends the statements to the history, derives the new state of each (subject, purpose) from
   * the whole history, and recomputes the subjects' expiries, in the caller's transaction.
   */
  private async recordIn(
    repository: Repository,
    principal: Principal,
    statements: readonly ConsentStatement[],
  ): Promise<{ recorded: ConsentRecord[]; recomputed: number }> {
    const now = Date.now();
    const rows: ConsentEventRow[] = [];
    for (const statement of statements) {
      for (const decision of statement.decisions) {
        rows.push(eventRow(statement.subject, decision, principal, now, rows.length));
      }
    }
    const keys = [...new Map(rows.map((row) => [`${row.subject}\u0000${row.purpose}`, row])).values()]
      .map((row) => ({ subject: row.subject, purpose: row.purpose }))
      .sort((a, b) => byCodeUnit(a.subject, b.subject) || byCodeUnit(a.purpose, b.purpose));
    // Lock first: the history read below then includes every concurrent writer's events.
    await repository.consent.lockStates(keys, now);
    await repository.consent.insertEvents(rows);
    const subjects = [...new Set(keys.map((key) => key.subject))];
    const history = groupBy(
      (await repository.consent.eventsOfSubjects(subjects)).map(toChange),
      (change) => `${change.row.subject}\u0000${change.row.purpose}`,
    );
    for (const key of keys) {
      const changes = inConsentOrder(history.get(`${key.subject}\u0000${key.purpose}`) ?? []);
      const window = consentWindow(changes);
      const latest = changes[changes.length - 1];
      await repository.consent.saveState({
        subject: key.subject,
        purpose: key.purpose,
        granted_at: window.grantedAt,
        withdrawn_at: window.withdrawnAt,
        changed_at: now,
        last_event_id: latest?.row.id ?? '',
      });
    }
    const view = new CatalogView(await repository.retention.loadCatalog());
    const summary = await recomputeSubjectExpiries(repository, subjects, view);
    return { recorded: rows.map(toRecord), recomputed: summary.changed };
  }
}

/**
 * Checks purposes against the taxonomy, decodes the TC string and checks times against the
 * clock; throws a 4xx AppError. The string's purposes come first, dated by its lastUpdated and
 * proven by the string itself; a key also named in `purposes` is left to that explicit choice.
 */
function checkStatement(
  subject: string,
  input: ConsentInput,
  purposes: Taxonomy,
  now: number,
): ConsentStatement {
  const explicit = input.purposes ?? {};
  const keys = Object.keys(explicit);
  if (keys.length === 0 && input.tcString === undefined) {
    throw new AppError('CONSENT_EMPTY', 'Name at least one purpose in "purposes", or give a "tcString".');
  }
  const unknown = keys.find((key) => !purposes.has(key));
  if (unknown !== undefined) {
    throw new AppError('CONSENT_PURPOSE_UNKNOWN', `"${unknown}" is not in the purpose taxonomy.`, {
      purpose: unknown,
    });
  }
  const at = input.at === undefined ? now : parseInstant(input.at);
  if (at === undefined)
    throw new AppError('INVALID_TIME', `"${input.at}" is not an ISO 8601 instant with a zone.`);
  if (at > now + MAX_CLOCK_SKEW_MS) throw new AppError('INVALID_TIME', `"${input.at}" lies in the future.`);
  const where = { notice: input.notice, channel: input.channel, url: input.url };
  const decisions: ConsentDecision[] = [];
  if (input.tcString !== undefined) {
    const tcf = decodeTcfConsent(input.tcString);
    if (tcf.at > now + MAX_CLOCK_SKEW_MS) {
      throw new AppError('INVALID_TIME', `The TC string's lastUpdated ${toIso(tcf.at)} lies in the future.`);
    }
    for (const [purpose, granted] of Object.entries(tcf.purposes)) {
      if (Object.hasOwn(explicit, purpose)) continue;
      decisions.push({
        purpose,
        granted,
        at: tcf.at,
        proof: { ...where, ...tcf.proof, tcString: input.tcString },
      });
    }
  }
  const proof = { ...where, noticeVersion: input.noticeVersion, source: input.source, method: input.method };
  for (const [purpose, granted] of Object.entries(explicit)) decisions.push({ purpose, granted, at, proof });
  return { subject, decisions };
}

function eventRow(
  subject: string,
  decision: ConsentDecision,
  principal: Principal,
  now: number,
  seq: number,
): ConsentEventRow {
  const proof = decision.proof;
  return {
    id: randomUUID(),
    subject,
    purpose: decision.purpose,
    granted: decision.granted ? 1 : 0,
    at: decision.at,
    recorded_at: now,
    seq,
    recorded_by: principal.id,
    recorder_role: principal.role,
    source: proof.source ?? null,
    notice: proof.notice ?? null,
    notice_version: proof.noticeVersion ?? null,
    method: proof.method ?? null,
    channel: proof.channel ?? null,
    url: proof.url ?? null,
    tc_string: proof.tcString ?? null,
  };
}

function toChange(row: ConsentEventRow) {
  return { granted: row.granted === 1, at: row.at, recordedAt: row.recorded_at, seq: row.seq, row };
}

function toRecord(row: ConsentEventRow): ConsentRecord {
  const optional = {
    notice: row.notice,
    noticeVersion: row.notice_version,
    source: row.source,
    method: row.method,
    channel: row.channel,
    url: row.url,
    tcString: row.tc_string,
  };
  return {
    id: row.id,
    subject: row.subject,
    purpose: row.purpose,
    granted: row.granted === 1,
    at: toIso(row.at),
    recordedAt: toIso(row.recorded_at),
    recordedBy: { id: row.recorded_by, role: row.recorder_role },
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== null)),
  };
}

/**
 * The subject's whole consent history with its proof, in the order it counts, read in
 * `repository` (a caller's transaction may pass its own). No permission check, no audit: the
 * caller does both (a DSAR's answer includes it, GDPR Art. 15(1) and 7(1)).
 */
export async function consentHistoryIn(repository: Repository, subject: string): Promise<ConsentRecord[]> {
  const events = await repository.consent.eventsOfSubjects([subject]);
  return inConsentOrder(events.map(toChange)).map((change) => toRecord(change.row));
}

/**
 * Forgets the uses the subject's data was put to without consent (a completed delete). The
 * consent history itself stays: it is the proof Art. 7(1) asks the controller to keep.
 */
export function forgetConsentViolationsIn(repository: Repository, subject: string): Promise<number> {
  return repository.consent.deleteViolationsOf(subject);
}

/** The API form of a subject's consent states, per purpose. */
export function purposeStates(rows: readonly ConsentStateRow[]): Record<string, ConsentPurposeState> {
  const states: Record<string, ConsentPurposeState> = {};
  for (const row of rows) {
    const granted = row.granted_at !== null && row.withdrawn_at === null;
    const since = granted ? row.granted_at : row.withdrawn_at;
    if (since === null) continue;
    states[row.purpose] = {
      granted,
      since: toIso(since),
      ...(row.granted_at !== null ? { grantedAt: toIso(row.granted_at) } : {}),
      ...(row.withdrawn_at !== null ? { withdrawnAt: toIso(row.withdrawn_at) } : {}),
    };
  }
  return states;
}
