import type { Principal } from '../auth/principal.js';
import type { AuditRecord } from './audit-chain.js';
import type { Repository } from '../store/repository.js';
import type { Store } from '../store/store.js';

/** How the audit log names a principal: `role:id`, with `@issuer` for external issuers. */
export function actorOf(principal: Principal): string {
  const external = principal.issuer && principal.issuer !== 'lethe' ? `@${principal.issuer}` : '';
  return `${principal.role}:${principal.id}${external}`;
}

export function auditRecord(principal: Principal, action: string, target: string): AuditRecord {
  return {
    at: Date.now(),
    actor: actorOf(principal),
    action,
    target,
    requestId: principal.requestId ?? null,
  };
}

/**
 * Appends to the audit log inside the caller's transaction. Fail closed: if the entry cannot be
 * written, `AUDIT_FAILED` aborts the transaction and the action with it.
 */
export async function audit(
  repository: Repository,
  principal: Principal,
  action: string,
  target: string,
): Promise<void> {
  await repository.audit.append([auditRecord(principal, action, target)]);
}

/**
 * Records a read of subject-level data before the data is served: if the read cannot be
 * recorded, it does not happen. The entry is durable when this resolves; concurrent reads share
 * one commit (`Store.appendAudit`), so reads need not wait for each other's fsync one by one.
 */
export async function auditRead(store: Store, principal: Principal, action: string, target: string) {
  await store.appendAudit(auditRecord(principal, action, target));
}

/**
 * `read` while its audit entry commits, for a read of subject-level data: the answer (data, or
 * the read's own error such as "not found", which says something about the subject too) is
 * given only once the entry is durable, and never when it cannot be written (fail closed, the
 * audit's error). Reading during the commit instead of after it takes the commit's wait off the
 * read's latency where they can overlap (PostgreSQL: another connection).
 */
export async function auditedRead<T>(
  store: Store,
  principal: Principal,
  action: string,
  target: string,
  read: () => Promise<T>,
): Promise<T> {
  const [audited, result] = await Promise.allSettled([auditRead(store, principal, action, target), read()]);
  if (audited.status === 'rejected') throw audited.reason;
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
