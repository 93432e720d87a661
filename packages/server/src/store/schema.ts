import type { AuditTables } from '../audit/audit-tables.js';
import type { AuthTables } from '../auth/auth-tables.js';
import type { ConsentTables } from '../consent/consent-tables.js';
import type { DataMapTables } from '../datamap/datamap-tables.js';
import type { JobTables } from '../jobs/job-tables.js';
import type { RequestTables } from '../requests/request-tables.js';
import type { RetentionTables } from '../retention/retention-tables.js';
import type { HoldTables } from '../retention/holds/hold-tables.js';
import type { SessionTables } from '../session/session-tables.js';
import type { StreamExportTables } from '../streams/exports/stream-export-tables.js';
import type { StreamTables } from '../streams/stream-tables.js';
import type { WebhookTables } from '../webhooks/webhook-tables.js';

/**
 * Every table, as Kysely sees it: each feature declares its own tables and row types beside its
 * queries (`<feature>/*-tables.ts`); only `meta` belongs to the core. Times are epoch milliseconds
 * in both backends. Domain types live in `@lethe/api` and in the features; mappers between the two
 * live beside the queries that need them.
 */
export interface Database
  extends
    RetentionTables,
    HoldTables,
    AuthTables,
    AuditTables,
    DataMapTables,
    RequestTables,
    StreamTables,
    ConsentTables,
    StreamExportTables,
    SessionTables,
    JobTables,
    WebhookTables {
  meta: MetaRow;
}

/** Small server-wide values by key: the catalog and data map versions, the wrapped server secret… */
export interface MetaRow {
  key: string;
  value: string;
}
