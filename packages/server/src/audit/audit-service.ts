import type { AuditCheckpoint, AuditPage, AuditVerification } from '@lethe/api';
import { CompactSign } from 'jose';
import { authorize, maySeeSubjectIds } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import type { SigningKeys } from '../auth/signing-keys.js';
import { SIGNING_ALGORITHM } from '../auth/token-rules.js';
import type { AuditEntry } from './audit-chain.js';
import { toIso } from '../lib/time.js';
import type { AuditCheckpointRow } from './audit-tables.js';
import type { Store } from '../store/store.js';
import { audit, auditRead } from './audit-trail.js';
import { verifyAuditLog, type CheckpointClaims } from './audit-verification.js';
import type { CatalogCache } from '../retention/catalog-cache.js';
import type { ServerSecrets } from '../auth/server-secrets.js';

const DEFAULT_PAGE = 100;
const CHECKPOINT_TYPE = 'lethe-audit-checkpoint+jws';

/** Reading, verifying and checkpointing the hash-chained audit log. */
export class AuditService {
  constructor(
    private readonly store: Store,
    private readonly secrets: ServerSecrets,
    private readonly keys: SigningKeys,
    private readonly catalog: CatalogCache,
  ) {}

  /** A page of entries after `after`; subject ids in targets are pseudonymised for auditors. */
  async list(principal: Principal, after = 0, limit = DEFAULT_PAGE): Promise<AuditPage> {
    authorize(principal, 'audit:read');
    // The log names subjects, so reading it is itself a read of subject-level data.
    await auditRead(this.store, principal, 'audit.read', `audit:after=${after}`);
    // Ingest's entries wait in the usage journal with their events until folded (SQLite).
    await this.store.freshAggregates();
    const [entries, head] = await Promise.all([
      this.store.repository.audit.entries(after, limit + 1),
      this.store.repository.audit.head(),
    ]);
    const shown = maySeeSubjectIds(principal) ? undefined : await this.secrets.pseudonymizer();
    const hidden = await this.hiddenFields(principal);
    const items = entries.slice(0, limit).map((entry) => auditEntryToApi(entry, shown, hidden));
    const last = entries.length > limit ? entries[limit - 1] : undefined;
    // Seqs run 1, 2, 3… without gaps, so the head's is the count: pages are offsets into it.
    return last ? { items, next: last.seq, total: head.seq } : { items, total: head.seq };
  }

  /** Declared fields a category-limited principal may not see; their names are masked in targets. */
  private async hiddenFields(principal: Principal): Promise<ReadonlySet<string>> {
    const view = await this.catalog.current();
    const visible = view.visibleFields(principal);
    return new Set(visible ? view.declaredFields().filter((field) => !visible.has(field)) : []);
  }

  async verify(principal: Principal): Promise<AuditVerification> {
    authorize(principal, 'audit:read');
    await this.store.freshAggregates();
    return verifyAuditLog(this.store.repository);
  }

  async checkpoints(principal: Principal, limit = DEFAULT_PAGE): Promise<AuditCheckpoint[]> {
    authorize(principal, 'audit:read');
    return (await this.store.repository.audit.listCheckpoints(limit)).map(checkpointRowToApi);
  }

  /**
   * Signs the chain's current head with the current signing key and stores it, so an operator
   * can keep a copy outside Lethe: a chain rewritten wholesale no longer matches that copy.
   * Returns undefined when nothing was appended since the last checkpoint.
   */
  async checkpoint(principal: Principal): Promise<AuditCheckpoint | undefined> {
    authorize(principal, 'audit:checkpoint');
    const key = await this.keys.current();
    await this.store.freshAggregates();
    return this.store.transaction(async (repository) => {
      const head = await repository.audit.head();
      const [latest] = await repository.audit.listCheckpoints(1);
      // The entry after a checkpoint is that checkpoint's own record: nothing new to sign.
      if (Number(head.seq) === 0 || (latest && Number(head.seq) <= Number(latest.seq) + 1)) return undefined;
      const claims: CheckpointClaims = { seq: Number(head.seq), hash: head.hash, at: Date.now() };
      const signature = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
        .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: CHECKPOINT_TYPE })
        .sign(key.privateKey);
      const row: AuditCheckpointRow = { ...claims, kid: key.kid, signature };
      await repository.audit.insertCheckpoint(row);
      await audit(repository, principal, 'audit.checkpoint', `audit:${claims.seq}`);
      return checkpointRowToApi(row);
    });
  }
}

/** `field=<name>` in a feed read's target (`expiries:from=…&field=…`, see `describeFeedQuery`). */
const FIELD_FILTER = /([:&]field=)([^&]*)/g;

function auditEntryToApi(
  entry: AuditEntry,
  pseudonymize: ((subject: string) => string) | undefined,
  hiddenFields: ReadonlySet<string>,
) {
  const target =
    pseudonymize && entry.target.startsWith('subject:')
      ? `subject:${pseudonymize(entry.target.slice('subject:'.length))}`
      : // A feed read's target names its `field=` filter, which may lie outside the reader's categories.
        entry.target.replace(FIELD_FILTER, (whole, prefix: string, field: string) =>
          hiddenFields.has(field) ? `${prefix}~hidden-field` : whole,
        );
  return {
    seq: entry.seq,
    at: toIso(entry.at),
    actor: entry.actor,
    action: entry.action,
    target,
    ...(entry.requestId !== null ? { requestId: entry.requestId } : {}),
    hash: entry.hash,
    prevHash: entry.prevHash,
  };
}

export function checkpointRowToApi(row: AuditCheckpointRow): AuditCheckpoint {
  return {
    seq: Number(row.seq),
    hash: row.hash,
    at: toIso(Number(row.at)),
    kid: row.kid,
    signature: row.signature,
  };
}
