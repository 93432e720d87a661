import type { Migration, MigrationProvider } from 'kysely';
import { retentionCoreMigration } from './migrations/0001-retention-core.js';
import { zeroTrustMigration } from './migrations/0002-zero-trust.js';
import { keyActivationMigration } from './migrations/0003-key-activation.js';
import { dataMapMigration } from './migrations/0004-data-map.js';
import { rightsRequestsMigration } from './migrations/0005-rights-requests.js';
import { fieldKeysMigration } from './migrations/0006-field-keys.js';
import { consentMigration } from './migrations/0007-consent.js';
import { privacyStreamsMigration } from './migrations/0008-privacy-streams.js';
import { streamExportsMigration } from './migrations/0009-stream-exports.js';
import { signInCodesMigration } from './migrations/0010-sign-in-codes.js';
import { streamRetentionMigration } from './migrations/0011-stream-retention.js';
import { dsarKnowledgeMigration } from './migrations/0012-dsar-knowledge.js';
import { erasureCategoriesMigration } from './migrations/0013-erasure-categories.js';
import { safetyRailsMigration } from './migrations/0014-safety-rails.js';
import { usageJournalMigration } from './migrations/0016-usage-journal.js';
import { erasureApprovalMigration } from './migrations/0015-erasure-approval.js';
import { legalHoldsMigration } from './migrations/0017-legal-holds.js';
import { postgresFoldPartitionsMigration } from './migrations/0018-postgres-fold-partitions.js';
import { jobsMigration } from './migrations/0019-jobs.js';
import { expireNowMigration } from './migrations/0020-expire-now.js';
import { agingMigration } from './migrations/0021-aging.js';
import { policyChangeReasonMigration } from './migrations/0022-policy-change-reason.js';
import { webhooksMigration } from './migrations/0023-webhooks.js';
import { webhookBreakerMigration } from './migrations/0024-webhook-breaker.js';
import { webhookLogRetentionMigration } from './migrations/0025-webhook-log-retention.js';
import type { BackendCapabilities } from './store.js';

/**
 * Versioned migrations, run at start, one file each in `migrations/`. Written once with Kysely's
 * schema builder for both backends; backend differences are capability flags, never a check of
 * the backend's name. Kysely records applied migrations by these names: append new migrations;
 * never rename or edit one that has shipped.
 */
export function migrationProvider(capabilities: BackendCapabilities): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001-retention-core': retentionCoreMigration(capabilities),
    '0002-zero-trust': zeroTrustMigration,
    '0003-key-activation': keyActivationMigration,
    '0004-data-map': dataMapMigration(capabilities),
    '0005-rights-requests': rightsRequestsMigration(capabilities),
    '0006-field-keys': fieldKeysMigration,
    '0007-consent': consentMigration(capabilities),
    '0008-privacy-streams': privacyStreamsMigration,
    '0009-stream-exports': streamExportsMigration,
    '0010-sign-in-codes': signInCodesMigration,
    '0011-stream-retention': streamRetentionMigration,
    '0012-dsar-knowledge': dsarKnowledgeMigration,
    '0013-erasure-categories': erasureCategoriesMigration,
    '0014-safety-rails': safetyRailsMigration,
    '0015-erasure-approval': erasureApprovalMigration,
    '0016-usage-journal': usageJournalMigration(capabilities),
    '0017-legal-holds': legalHoldsMigration,
    '0018-postgres-fold-partitions': postgresFoldPartitionsMigration(capabilities),
    '0019-jobs': jobsMigration,
    '0020-expire-now': expireNowMigration,
    '0021-aging': agingMigration,
    '0022-policy-change-reason': policyChangeReasonMigration,
    '0023-webhooks': webhooksMigration,
    '0024-webhook-breaker': webhookBreakerMigration,
    '0025-webhook-log-retention': webhookLogRetentionMigration,
  };
  return { getMigrations: async () => migrations };
}
