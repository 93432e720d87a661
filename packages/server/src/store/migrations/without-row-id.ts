import { sql, type RawBuilder } from 'kysely';
import type { BackendCapabilities } from '../store.js';

/** The table suffix for composite-key tables: ` without rowid` where the backend has it, else nothing. */
export function withoutRowIdClause(capabilities: BackendCapabilities): RawBuilder<unknown> {
  return capabilities.withoutRowId ? sql.raw(' without rowid') : sql.raw('');
}
