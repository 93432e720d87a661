import type { IngestBatch, IngestOutcome } from './store.js';

interface Pending {
  readonly batch: IngestBatch;
  readonly resolve: (outcome: IngestOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: batches that arrive while earlier ones are being committed share the next
 * transaction. Much of a commit's cost is fixed (the fsync, and rewriting every B-tree page the
 * transaction touched), so several requests committed together cost little more than one.
 * Each caller still gets its answer only after its own events are on disk.
 *
 * `maxConcurrentGroups` is 1 for SQLite (one writer) and more for PostgreSQL, where groups
 * committing side by side keep both the server and the database busy.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly commit: (batches: readonly IngestBatch[]) => Promise<IngestOutcome[]>,
    private readonly limits: { readonly maxEventsPerGroup: number; readonly maxConcurrentGroups: number },
  ) {}

  submit(batch: IngestBatch): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ batch, resolve, reject });
      // setImmediate lets requests whose bodies already arrived reach the queue first.
      if (this.pending.length === 1) setImmediate(() => this.pump());
    });
  }

  private pump(): void {
    while (this.pending.length && this.inFlight < this.limits.maxConcurrentGroups) {
      const group = this.takeGroup();
      this.inFlight += 1;
      this.commit(group.map((entry) => entry.batch))
        .then(
          (outcomes) => group.forEach((entry, index) => entry.resolve(outcomes[index] as IngestOutcome)),
          (error: unknown) => group.forEach((entry) => entry.reject(error)),
        )
        .finally(() => {
          this.inFlight -= 1;
          this.pump();
        });
    }
  }

  private takeGroup(): Pending[] {
    let events = 0;
    let count = 0;
    for (const { batch } of this.pending) {
      if (count > 0 && events + batch.events.length > this.limits.maxEventsPerGroup) break;
      events += batch.events.length;
      count += 1;
    }
    return this.pending.splice(0, count);
  }
}
