import type { AcceptedEvent } from '../../retention/usage-batch.js';

/**
 * The usage journal on PostgreSQL is split by subject into this many partitions: ingest writes
 * a group's events as one row per partition they fall in, and each partition is folded by one
 * transaction at a time under its own advisory lock, so partitions fold in parallel (on one node
 * or several) without touching the same usage, expiry or violation rows. Fixed: a row's
 * partition is stored with it, and rows of a partition beyond this count would never be folded.
 */
export const FOLD_PARTITIONS = 4;

/** A stable hash of the subject (FNV-1a over UTF-16 code units), the same on every node. */
export function partitionOf(subject: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < subject.length; i += 1) {
    hash ^= subject.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % FOLD_PARTITIONS;
}

/** The events of a group, by partition, each in its original order; empty partitions left out. */
export function byPartition(events: readonly AcceptedEvent[]): Map<number, AcceptedEvent[]> {
  const parts = new Map<number, AcceptedEvent[]>();
  for (const event of events) {
    const part = partitionOf(event.subject);
    const list = parts.get(part);
    if (list) list.push(event);
    else parts.set(part, [event]);
  }
  return parts;
}
