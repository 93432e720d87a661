import type { OverviewRow, ReportRow } from '@lethe/api';
import { authorize, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { nothingHeld, type DsarFile, type DsarPackage, type DsarSource } from './dsar-package.js';
import { openLetheKnowledge } from './lethe-knowledge.js';
import { toIso } from '../lib/time.js';
import type { RequestRecordRow, RightsRequestRow } from './request-tables.js';
import type { Store } from '../store/store.js';
import { auditRead } from '../audit/audit-trail.js';
import type { SealedRecord } from './request-progress.js';
import { TICKET_FILE_SEMANTIC, type TicketFileValues } from './ticket-findings.js';
import { requestRowToView } from './request-view.js';
import type { RequestVault, Sealer } from './request-vault.js';

const PAGE = 2_000;

/**
 * The compliance reports of rights requests (after Amperity's Unified Compliance tables): an
 * overview row per request and a detail row per matched record; and the DSAR package for the
 * person. Matching values appear only while the request holds its key, and only for admin and
 * dpo; afterwards the keyed hash stands in for them.
 */
export class RequestReportService {
  constructor(
    private readonly store: Store,
    private readonly vault: RequestVault,
    private readonly now: () => number = Date.now,
  ) {}

  async report(principal: Principal, id: string): Promise<ReportRow[]> {
    authorize(principal, 'requests:read');
    requireAllCategories(principal, 'A rights request spans every category');
    const request = await this.require(id);
    await auditRead(this.store, principal, 'request.report', `request:${id}`);
    const mayReadValues = principal.role === 'admin' || principal.role === 'dpo';
    const sealer = mayReadValues ? await this.vault.open(this.store.repository, id) : undefined;
    const positions = await this.taskPositions(id);
    const rows: ReportRow[] = [];
    for await (const record of this.records(request.id)) {
      const value = sealer ? openRecord(sealer, record, positions).semanticValue : undefined;
      rows.push({
        requestId: record.request_id,
        task: positions.get(record.task_id) ?? 0,
        datasource: record.datasource,
        pk: record.pk,
        matchCategory: record.match_category,
        semantic: record.semantic,
        ...(value !== undefined && value !== '' ? { semanticValue: value } : {}),
        semanticValueHash: record.semantic_value_hash,
        piiColumns: JSON.parse(record.pii_columns) as string[],
        ...(record.kept !== null ? { kept: record.kept } : {}),
      });
    }
    return rows;
  }

  async overview(principal: Principal): Promise<OverviewRow[]> {
    authorize(principal, 'reports:read');
    requireAllCategories(principal, 'A rights request spans every category');
    const now = this.now();
    const rows: OverviewRow[] = [];
    let after: { receivedAt: number; id: string } | undefined;
    for (;;) {
      const page = await this.store.repository.requests.listRequests(
        {},
        { limit: PAGE, ...(after ? { after } : {}) },
      );
      for (const row of page) {
        const view = requestRowToView(row, now);
        rows.push({
          requestId: view.id,
          type: view.type,
          strategy: view.strategy,
          jurisdiction: view.jurisdiction,
          status: view.status,
          identifierKinds: view.identifierKinds,
          masked: view.masked,
          receivedAt: view.receivedAt,
          dueAt: view.dueAt,
          ...(view.completedAt !== undefined ? { completedAt: view.completedAt } : {}),
          rowsFound: view.rowsFound,
          overdue: view.overdue,
        });
      }
      const last = page.at(-1);
      if (page.length < PAGE || !last) return rows;
      after = { receivedAt: last.received_at, id: last.id };
    }
  }

  /** What a DSAR found, with the values, while the request still holds its key. */
  async dsarPackage(principal: Principal, id: string): Promise<DsarPackage> {
    authorize(principal, 'requests:package');
    requireAllCategories(principal, 'A rights request spans every category');
    const request = await this.require(id);
    if (request.type !== 'dsar') throw new AppError('NOT_A_DSAR', `Request "${id}" is a ${request.type}.`);
    if (request.status !== 'completed') {
      throw new AppError(
        'REQUEST_STATE_CONFLICT',
        `Request "${id}" is ${request.status}; the package comes at completion.`,
      );
    }
    const sealer = await this.vault.open(this.store.repository, id);
    if (!sealer) throw new AppError('PII_DESTROYED', `The findings of request "${id}" have been destroyed.`);
    await auditRead(this.store, principal, 'request.package', `request:${id}`);
    const tasks = await this.store.repository.requests.listTasks(id);
    const positions = new Map(tasks.map((task) => [task.id, task.position]));
    const targets = new Map(tasks.map((task) => [task.id, task.target]));
    const sources = new Map<string, DsarSource['records'][number][]>();
    const files: DsarFile[] = [];
    for await (const record of this.records(id)) {
      const values = openRecord(sealer, record, positions).values ?? {};
      if (record.semantic === TICKET_FILE_SEMANTIC) {
        files.push({ source: targets.get(record.task_id) ?? '', ...(values as unknown as TicketFileValues) });
        continue;
      }
      const list = sources.get(record.datasource) ?? [];
      list.push({ pk: record.pk, values, ...(record.kept !== null ? { kept: record.kept } : {}) });
      sources.set(record.datasource, list);
    }
    const controller = (await this.store.repository.datamap.organisation())?.controller.name;
    const lethe = openLetheKnowledge(sealer, request);
    const found = [...sources].map(([datasource, records]) => ({ datasource, records }));
    return {
      requestId: id,
      receivedAt: toIso(request.received_at),
      ...(request.completed_at !== null ? { completedAt: toIso(request.completed_at) } : {}),
      generatedAt: toIso(this.now()),
      ...(controller !== undefined ? { controller } : {}),
      sources: found,
      files,
      skipped: tasks
        .filter((task) => task.state === 'skipped')
        .map((task) => ({
          source: task.target,
          ...(task.system !== null ? { system: task.system } : {}),
          reason: task.note ?? '',
        })),
      lethe,
      nothingHeld: nothingHeld(found, files, lethe),
    };
  }

  private async require(id: string): Promise<RightsRequestRow> {
    const row = await this.store.repository.requests.getRequest(id);
    if (!row) throw new AppError('REQUEST_NOT_FOUND', `No rights request "${id}".`);
    return row;
  }

  private async taskPositions(id: string): Promise<Map<string, number>> {
    const tasks = await this.store.repository.requests.listTasks(id);
    return new Map(tasks.map((task) => [task.id, task.position]));
  }

  private async *records(requestId: string): AsyncGenerator<RequestRecordRow> {
    let after: { taskId: string; seq: number } | undefined;
    for (;;) {
      const page = await this.store.repository.requests.recordsPage(requestId, after, PAGE);
      yield* page;
      const last = page.at(-1);
      if (page.length < PAGE || !last) return;
      after = { taskId: last.task_id, seq: Number(last.seq) };
    }
  }
}

function openRecord(sealer: Sealer, record: RequestRecordRow, positions: Map<string, number>): SealedRecord {
  if (record.sealed === null) return { semanticValue: '' };
  return sealer.open<SealedRecord>(
    record.sealed,
    `record:${positions.get(record.task_id) ?? 0}:${Number(record.seq)}`,
  );
}
