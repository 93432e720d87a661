import type { IngestBatch, IngestOutcome } from './store.js';

/**
 * Group commit: batches that arrive while a commit is being prepared share one transaction.
 * Most of a commit's cost on SQLite is fixed (the fsync, and rewriting every B-tree page the
 * transaction touched), so four concurrent requests committed together cost little more than one.
 * Each caller still gets its answer only after its events are on disk.
 */
export class GroupCommit {
  private pending: {
    batch: IngestBatch;
    resolve: (o: IngestOutcome) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private scheduled = false;

  constructor(
    private readonly commit: (batches: readonly IngestBatch[]) => Promise<IngestOutcome[]>,
    private readonly maxEventsPerGroup: number,
  ) {}

  submit(batch: IngestBatch): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ batch, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate lets requests whose bodies already arrived reach this queue first.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const group = this.takeGroup();
      try {
        const outcomes = await this.commit(group.map((entry) => entry.batch));
        group.forEach((entry, index) => entry.resolve(outcomes[index] as IngestOutcome));
      } catch (error) {
        for (const entry of group) entry.reject(error);
      }
    }
    this.scheduled = false;
  }

  private takeGroup() {
    let events = 0;
    let count = 0;
    while (
      count < this.pending.length &&
      (count === 0 || events + this.pending[count]!.batch.events.length <= this.maxEventsPerGroup)
    ) {
      events += this.pending[count]!.batch.events.length;
      count += 1;
    }
    return this.pending.splice(0, count);
  }
}
