import { emitWebhookEvent } from '../webhooks/webhook-outbox.js';
import { requestEventData } from '../webhooks/request-event-data.js';
import { createHmac } from 'node:crypto';
import type { FoundRecord } from './found-record.js';
import { settledStatus } from './request-status.js';
import type { Repository } from '../store/repository.js';
import type { RequestTaskRow, RightsRequestRow } from './request-tables.js';
import { LETHE_ITSELF } from '../auth/principal.js';
import { audit } from '../audit/audit-trail.js';
import { toIso } from '../lib/time.js';
import type { RequestSettings } from './request-settings.js';
import type { RequestVault, Sealer } from './request-vault.js';
import { sealLetheKnowledge } from './lethe-knowledge.js';
import { readReasons } from './task-reasons.js';

/** What a sealed record holds: the matching value and, for a DSAR, the record's values. */
export interface SealedRecord {
  readonly semanticValue: string;
  readonly values?: Readonly<Record<string, unknown>>;
}

/** Keyed hash of a matching value, kept in the report once the value itself is destroyed. */
export function reportValueHash(key: Buffer, semantic: string, value: string): string {
  return createHmac('sha256', key).update(`report-value\0${semantic}\0${value}`).digest('hex');
}

/**
 * Writes found records as report rows: the matching value (and a DSAR's values) sealed under the
 * request key, its keyed hash in clear. `seqStart` continues the numbering within the task.
 */
export async function storeFoundRecords(
  repository: Repository,
  sealer: Sealer,
  hashKey: Buffer,
  request: RightsRequestRow,
  task: RequestTaskRow,
  seqStart: number,
  records: readonly FoundRecord[],
): Promise<void> {
  await repository.requests.insertRecords(
    records.map((record, index) => {
      const sealed: SealedRecord = {
        semanticValue: record.semanticValue,
        ...(request.type === 'dsar' && record.values !== undefined ? { values: record.values } : {}),
      };
      return {
        request_id: request.id,
        task_id: task.id,
        seq: seqStart + index,
        datasource: record.datasource,
        pk: record.pk,
        match_category: record.matchCategory,
        semantic: record.semantic,
        semantic_value_hash: reportValueHash(hashKey, record.semantic, record.semanticValue),
        sealed: sealer.seal(sealed, `record:${task.position}:${seqStart + index}`),
        pii_columns: JSON.stringify(record.piiColumns),
        kept: record.kept ?? null,
      };
    }),
  );
}

/**
 * Runs inside the transaction that completes an erasure (delete or delete_pii), while the
 * request's identifiers can still be opened: what else must go with the person (their privacy
 * stream keys) goes in the same commit.
 */
export type ErasureHook = (repository: Repository, request: RightsRequestRow) => Promise<void>;

/**
 * What settling a request needs besides the repository: the vault (a completed DSAR seals what
 * Lethe itself knows about the subject into its answer) and what a completed erasure also removes.
 */
export interface Completion {
  readonly vault: RequestVault;
  /** Run in order, in the completing transaction; `whenErased` adds to it. */
  readonly erasureHooks: readonly ErasureHook[];
}

/**
 * Moves the request on once its tasks have: completed when all are done, failed when all have
 * finished and one failed. At completion the rows found are totalled; an erasure adds the
 * person's identifier hashes to the suppression list and destroys the identifiers at once; a
 * DSAR adds what Lethe itself knows about the subject and keeps its findings readable for the
 * delivery window.
 */
export async function settleRequest(
  repository: Repository,
  requestId: string,
  now: number,
  settings: RequestSettings,
  completion: Completion,
): Promise<void> {
  const request = await repository.requests.getRequest(requestId);
  if (!request || request.status !== 'in_progress') return;
  const tasks = await repository.requests.listTasks(requestId);
  const settled = settledStatus(tasks.map((task) => task.state));
  if (settled === undefined) return;
  if (settled === 'failed') {
    const failed = tasks.filter((task) => task.state === 'failed');
    const reason = failed.map((task) => `${task.target}: ${task.last_error ?? 'failed'}`).join('; ');
    await repository.requests.updateRequest(
      requestId,
      { status: 'failed', status_reason: reason.slice(0, 2000), updated_at: now },
      'in_progress',
    );
    await audit(repository, LETHE_ITSELF, 'request.fail', `request:${requestId}`);
    await emitWebhookEvent(
      repository,
      {
        type: 'request.failed',
        data: {
          ...requestEventData({ ...request, status: 'failed' }),
          failedTasks: failed.map((task) => task.target),
        },
      },
      now,
    );
    return;
  }
  const rowsFound = tasks.reduce((sum, task) => sum + Number(task.rows_found), 0);
  await repository.requests.updateRequest(
    requestId,
    {
      status: 'completed',
      completed_at: now,
      rows_found: rowsFound,
      status_reason: completionReason(tasks),
      updated_at: now,
      ...(request.type === 'dsar' ? { pii_expires_at: now + settings.dsarDeliveryWindowMs } : {}),
    },
    'in_progress',
  );
  if (request.type === 'dsar') await sealLetheKnowledge(repository, completion.vault, request, now);
  else {
    // A legal hold kept part of the person's data, or a skipped task left it in a system: Lethe's own
    // records of them (the fields' expiries, their stream keys) stay, so that the feed still names
    // what is held and where; Lethe cannot split those records by a hold's scope or by system.
    if (!tasks.some((task) => task.state === 'held' || task.state === 'skipped')) {
      for (const hook of completion.erasureHooks) await hook(repository, request);
    }
    const hashes = await repository.requests.hashesOf(requestId);
    await repository.requests.addSuppressions(
      hashes.map((hash) => ({
        hash: hash.hash,
        semantic: hash.semantic,
        request_id: requestId,
        added_at: now,
      })),
    );
    await repository.requests.destroyPii(requestId, now);
  }
  await audit(repository, LETHE_ITSELF, 'request.complete', `request:${requestId} rows=${rowsFound}`);
  await emitWebhookEvent(
    repository,
    {
      type: 'request.completed',
      data: { ...requestEventData({ ...request, status: 'completed' }), completedAt: toIso(now), rowsFound },
    },
    now,
  );
}

/**
 * What the completed request left out, as its status reason: what an erasure kept because of
 * legal holds (`kept under legal hold: crm (hold "audit-2026")`) and the systems a person skipped
 * with their reasons (`skipped: crm-api (decommissioned in 2025)`); null when nothing was.
 */
function completionReason(tasks: readonly RequestTaskRow[]): string | null {
  const kept = tasks.flatMap((task) => {
    if (task.state !== 'held') return [];
    const hold = readReasons(task.reasons).find((reason) => reason.kind === 'legal-hold');
    return [`${task.target} (hold "${hold?.kind === 'legal-hold' ? hold.hold : '?'}")`];
  });
  const skipped = tasks.flatMap((task) =>
    task.state === 'skipped' ? [`${task.target} (${task.note ?? 'no reason given'})`] : [],
  );
  const parts = [
    ...(kept.length > 0 ? [`kept under legal hold: ${kept.join('; ')}`] : []),
    ...(skipped.length > 0 ? [`skipped: ${skipped.join('; ')}`] : []),
  ];
  return parts.length === 0 ? null : parts.join(' · ').slice(0, 2000);
}
