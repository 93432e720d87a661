import type { OverviewRow, ReportRow } from '@lethe/api';
import { toCsv } from '../lib/csv.js';

/**
 * The compliance reports as CSV, one column per field (after Amperity's Unified Compliance and
 * Unified Compliance Overview tables); lists are joined with spaces.
 */
export function reportRowsCsv(rows: readonly ReportRow[]): string {
  return toCsv(
    [
      'request_id',
      'task',
      'datasource',
      'pk',
      'match_category',
      'semantic',
      'semantic_value',
      'semantic_value_hash',
      'pii_columns',
      'kept',
    ],
    rows.map((row) => [
      row.requestId,
      row.task,
      row.datasource,
      row.pk,
      row.matchCategory,
      row.semantic,
      row.semanticValue,
      row.semanticValueHash,
      row.piiColumns.join(' '),
      row.kept,
    ]),
  );
}

export function overviewRowsCsv(rows: readonly OverviewRow[]): string {
  return toCsv(
    [
      'request_id',
      'type',
      'strategy',
      'jurisdiction',
      'status',
      'identifiers',
      'received_at',
      'due_at',
      'completed_at',
      'rows_found',
      'overdue',
    ],
    rows.map((row) => [
      row.requestId,
      row.type,
      row.strategy,
      row.jurisdiction,
      row.status,
      row.identifierKinds.join(' '),
      row.receivedAt,
      row.dueAt,
      row.completedAt,
      row.rowsFound,
      row.overdue ? 'yes' : 'no',
    ]),
  );
}
