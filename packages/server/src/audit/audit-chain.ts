import { createHash } from 'node:crypto';

/** The `prevHash` of the first entry. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** What happened, before it is numbered and chained. */
export interface AuditRecord {
  readonly at: number;
  /** Who acted, as `role:id` (`role:id@issuer` for an external issuer). */
  readonly actor: string;
  /** Dotted verb, e.g. `policy.put`, `subject.read`, `events.publish`. */
  readonly action: string;
  /** What it acted on, e.g. `policy:marketing`, `subject:u-1001`. */
  readonly target: string;
  readonly requestId: string | null;
}

export interface AuditEntry extends AuditRecord {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * SHA-256 over every field of the entry and its predecessor's hash, so that changing, removing or
 * reordering an entry breaks every link after it.
 */
export function auditHash(entry: Omit<AuditEntry, 'hash'>): string {
  const canonical = JSON.stringify([
    entry.seq,
    entry.at,
    entry.actor,
    entry.action,
    entry.target,
    entry.requestId,
    entry.prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Numbers and chains `records` after `head`; returns the entries and the new head. */
export function chainAuditRecords(
  head: AuditHead,
  records: readonly AuditRecord[],
): { entries: AuditEntry[]; head: AuditHead } {
  let { seq, hash } = head;
  const entries = records.map((record) => {
    seq += 1;
    const unhashed = { ...record, seq, prevHash: hash };
    hash = auditHash(unhashed);
    return { ...unhashed, hash };
  });
  return { entries, head: { seq, hash } };
}

export interface BrokenLink {
  readonly seq: number;
  readonly reason: string;
}

/**
 * Checks one stretch of the chain that follows `previous`; returns the head reached, the last
 * intact entry, and the first broken link if there is one. Call it chunk after chunk with the
 * head it returns. Since the chain numbers its entries 1, 2, 3…, the head's seq is also how many
 * entries are intact: a missing entry has no position in a chunk to count by.
 */
export function checkAuditChain(
  previous: AuditHead,
  entries: readonly AuditEntry[],
): { head: AuditHead; broken?: BrokenLink } {
  let head = previous;
  for (const entry of entries) {
    if (entry.seq !== head.seq + 1) {
      return { head, broken: { seq: head.seq + 1, reason: `entry ${head.seq + 1} is missing` } };
    }
    if (entry.prevHash !== head.hash) {
      return {
        head,
        broken: { seq: entry.seq, reason: 'prevHash does not match the hash of the entry before' },
      };
    }
    if (auditHash(entry) !== entry.hash) {
      return { head, broken: { seq: entry.seq, reason: 'the entry was changed after it was written' } };
    }
    head = { seq: entry.seq, hash: entry.hash };
  }
  return { head };
}
