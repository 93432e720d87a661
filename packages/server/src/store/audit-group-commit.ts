import type { AuditRecord } from '../audit/audit-chain.js';
import { GroupCommit } from './group-commit.js';

/**
 * Audit entries per transaction at most. A read's entry is small (one row); the bound keeps a
 * burst from holding the writer long.
 */
const MAX_ENTRIES_PER_GROUP = 2_000;

/**
 * The audit entries that are a transaction of their own (the audit of reads, `Store.appendAudit`),
 * group-committed: entries that arrive while one group commits are chained and committed together
 * in the next, one fsync for all of them. `append` chains the records in order inside one durable
 * transaction; every caller is answered only once that transaction has committed, and all of a
 * failed group's callers get its error (fail closed).
 */
export function auditGroupCommit(
  append: (records: readonly AuditRecord[]) => Promise<unknown>,
): (record: AuditRecord) => Promise<void> {
  const group = new GroupCommit<AuditRecord, void>(
    async (records) => {
      await append(records);
      return records.map(() => undefined);
    },
    // One group at a time: every append takes the chain's head, so groups could not overlap anyway.
    { maxPerGroup: MAX_ENTRIES_PER_GROUP, maxConcurrentGroups: 1, sizeOf: () => 1 },
  );
  return (record) => group.submit(record);
}
