import { randomBytes } from 'node:crypto';
import type { Identifiers, ImportResult, RequestInput, RightsRequest } from '@lethe/api';
import { authorize, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { Taxonomy } from '../lib/taxonomy.js';
import { parseInstant, toIso } from '../lib/time.js';
import type { RightsRequestRow } from './request-tables.js';
import type { Store } from '../store/store.js';
import { audit } from '../audit/audit-trail.js';
import type { ServerSecrets } from '../auth/server-secrets.js';
import { dueAt, receiptConfirmationDueAt } from './deadlines.js';
import {
  describeIdentifiers,
  identifierHashes,
  IdentifierError,
  normaliseIdentifiers,
} from './identifiers.js';
import { parseRequestCsv, CsvFormatError } from './request-csv.js';
import type { RequestLifecycle } from './request-lifecycle.js';
import type { RequestReader } from './request-reader.js';
import type { RequestSettings } from './request-settings.js';
import { DUPLICATE_STATUSES } from './request-status.js';
import type { RequestVault } from './request-vault.js';

/** Where a request came from, kept with it. */
export type RequestSource = 'api' | 'csv' | 'cli';

/**
 * Filing rights requests, one through the API or CLI or a CSV table of them: identifiers
 * normalised, hashed and sealed; a due date from the jurisdiction; duplicate and
 * previously-erased checks; then every step configuration does not leave to a person.
 */
export class RequestIntake {
  constructor(
    private readonly store: Store,
    private readonly vault: RequestVault,
    private readonly secrets: ServerSecrets,
    private readonly settings: RequestSettings,
    private readonly lifecycle: RequestLifecycle,
    private readonly reader: RequestReader,
    private readonly now: () => number,
  ) {}

  async create(
    principal: Principal,
    input: RequestInput,
    source: RequestSource = 'api',
  ): Promise<RightsRequest> {
    authorize(principal, 'requests:create');
    requireAllCategories(principal, 'A rights request spans every category');
    const identifiers = this.normalise(input.identifiers);
    const receivedAt = this.receivedAt(input.receivedAt);
    const id = await this.intake(principal, { ...input, identifiers }, receivedAt, source);
    await this.lifecycle.advance(principal, id);
    return this.reader.get(principal, id);
  }

  /** The inbound requests table as CSV: each good row becomes a request, each bad one is reported. */
  async importCsv(principal: Principal, text: string): Promise<ImportResult> {
    authorize(principal, 'requests:create');
    requireAllCategories(principal, 'A rights request spans every category');
    let parsed;
    try {
      parsed = parseRequestCsv(text, {
        ...(this.settings.defaultCountry !== undefined
          ? { defaultCountry: this.settings.defaultCountry }
          : {}),
      });
    } catch (error) {
      if (error instanceof CsvFormatError) {
        throw new AppError('CSV_INVALID', error.message, { line: error.line });
      }
      throw error;
    }
    const result: ImportResult = { created: [], rejected: [...parsed.errors] };
    for (const { line, request } of parsed.rows) {
      try {
        const receivedAt = request.receivedAt ?? this.now();
        const id = await this.intake(principal, request, receivedAt, 'csv');
        await this.lifecycle.advance(principal, id);
        const row = await this.store.repository.requests.getRequest(id);
        result.created.push({ line, id, status: row?.status ?? 'received' });
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        result.rejected.push({ line, code: error.code, message: error.message });
      }
    }
    result.rejected.sort((a, b) => a.line - b.line);
    return result;
  }

  private normalise(identifiers: Identifiers): Identifiers {
    try {
      return normaliseIdentifiers(identifiers, {
        ...(this.settings.defaultCountry !== undefined
          ? { defaultCountry: this.settings.defaultCountry }
          : {}),
      });
    } catch (error) {
      if (error instanceof IdentifierError) {
        throw new AppError(error.code, error.message, { field: `identifiers.${error.field}` });
      }
      throw error;
    }
  }

  private receivedAt(text: string | undefined): number {
    if (text === undefined) return this.now();
    const at = parseInstant(text);
    if (at === undefined || at > this.now() + 5 * 60_000) {
      throw new AppError('INVALID_TIME', `receivedAt "${text}" is not an ISO 8601 instant in the past.`);
    }
    return at;
  }

  /** Stores a new request (status received) with its key, sealed identifiers and hashes. */
  private async intake(
    principal: Principal,
    input: Omit<RequestInput, 'receivedAt'>,
    receivedAt: number,
    source: RequestSource,
  ): Promise<string> {
    checkCategories(input);
    const hashKey = await this.secrets.key('identifiers');
    const hashes = identifierHashes(input.identifiers, hashKey);
    const id = input.id ?? newRequestId(receivedAt);
    const jurisdiction = input.jurisdiction ?? this.settings.defaultJurisdiction;
    const rule = this.settings.jurisdictions[jurisdiction];
    const now = this.now();
    await this.store.transaction(async (repository) => {
      const requests = repository.requests;
      if (await requests.getRequest(id)) {
        throw new AppError('REQUEST_EXISTS', `A request with id "${id}" exists already.`, { requestId: id });
      }
      const hashValues = hashes.map((hash) => hash.hash);
      const duplicate = await requests.openRequestWithHash(input.type, hashValues, DUPLICATE_STATUSES);
      if (duplicate !== undefined) {
        throw new AppError(
          'DUPLICATE_REQUEST',
          `Request "${duplicate}" (${input.type}) for the same person is still open.`,
          { requestId: duplicate },
        );
      }
      const erased = await requests.suppressionFor(hashValues);
      const receiptDue = receiptConfirmationDueAt(receivedAt, rule);
      const row: RightsRequestRow = {
        id,
        type: input.type,
        strategy: input.strategy ?? 'exact',
        jurisdiction,
        status: 'received',
        source,
        identifiers_sealed: null,
        identifier_kinds: JSON.stringify(hashes.map((hash) => hash.semantic)),
        masked: describeIdentifiers(input.identifiers),
        received_at: receivedAt,
        due_at: dueAt(receivedAt, rule),
        extended_at: null,
        extended_by: null,
        extension_reason: null,
        receipt_due_at: receiptDue ?? null,
        receipt_confirmed_at: null,
        receipt_confirmed_by: null,
        verification_required: this.settings.requireVerification ? 1 : 0,
        verified_at: null,
        verified_by: null,
        verification_method: null,
        approval_required: this.settings.requireApproval ? 1 : 0,
        approved_at: null,
        approved_by: null,
        status_reason: null,
        status_changed_by: null,
        previously_erased_by: erased?.request_id ?? null,
        rows_found: 0,
        actor_id: principal.id,
        actor_role: principal.role,
        created_at: now,
        updated_at: now,
        started_at: null,
        completed_at: null,
        pii_expires_at: null,
        knowledge_sealed: null,
        categories: input.categories === undefined ? null : JSON.stringify(input.categories),
        delivered_at: null,
        pii_destroyed_at: null,
      };
      await requests.insertRequest(row);
      const sealer = await this.vault.create(repository, id);
      await requests.updateRequest(id, { identifiers_sealed: sealer.seal(input.identifiers, 'identifiers') });
      await requests.insertHashes(
        hashes.map((hash) => ({ hash: hash.hash, request_id: id, semantic: hash.semantic })),
      );
      await audit(repository, principal, `request.create`, `request:${id}`);
    });
    return id;
  }
}

/**
 * A request's data categories: delete_pii only (a delete erases the whole person, a DSAR shows
 * everything), each a data category of the taxonomy (the defaults).
 */
function checkCategories(input: Omit<RequestInput, 'receivedAt'>): void {
  if (input.categories === undefined) return;
  if (input.type !== 'delete_pii') {
    throw new AppError(
      'INVALID_ERASURE_CATEGORY',
      `Only a delete_pii request takes categories, not ${input.type}.`,
      {
        field: 'categories',
      },
    );
  }
  const taxonomy = Taxonomy.dataCategories();
  input.categories.forEach((key, index) => {
    if (!taxonomy.has(key)) {
      throw new AppError('INVALID_ERASURE_CATEGORY', `"${key}" is not a data category of the taxonomy.`, {
        field: `categories[${index}]`,
      });
    }
  });
}

/** `req-20261123-<8 random hex>`: sortable by day, unguessable. */
function newRequestId(receivedAt: number): string {
  return `req-${toIso(receivedAt).slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
}
