interface Pending<Item, Outcome> {
  readonly item: Item;
  readonly resolve: (outcome: Outcome) => void;
  readonly reject: (error: unknown) => void;
}

export interface GroupLimits<Item> {
  /** Most units (`sizeOf`) in one group; a single item larger than this still goes alone. */
  readonly maxPerGroup: number;
  readonly maxConcurrentGroups: number;
  /** An item's size in units: a batch's events, or 1. */
  readonly sizeOf: (item: Item) => number;
}

/**
 * Group commit: items (ingest batches, audit entries of reads) that arrive while earlier ones are
 * being committed share the next transaction. Much of a commit's cost is fixed (the fsync, and
 * rewriting every B-tree page the transaction touched), so several requests committed together
 * cost little more than one. Each caller still gets its answer only after its own item is on
 * disk, and a failed commit fails every caller in its group.
 *
 * `maxConcurrentGroups` is 1 for SQLite (one writer) and more for PostgreSQL, where groups
 * committing side by side keep both the server and the database busy.
 */
export class GroupCommit<Item, Outcome> {
  private pending: Pending<Item, Outcome>[] = [];
  private inFlight = 0;

  constructor(
    private readonly commit: (items: readonly Item[]) => Promise<Outcome[]>,
    private readonly limits: GroupLimits<Item>,
  ) {}

  submit(item: Item): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      // setImmediate lets requests whose bodies already arrived reach the queue first.
      if (this.pending.length === 1) setImmediate(() => this.pump());
    });
  }

  private pump(): void {
    while (this.pending.length && this.inFlight < this.limits.maxConcurrentGroups) {
      const group = this.takeGroup();
      this.inFlight += 1;
      this.commit(group.map((entry) => entry.item))
        .then(
          (outcomes) => group.forEach((entry, index) => entry.resolve(outcomes[index] as Outcome)),
          (error: unknown) => group.forEach((entry) => entry.reject(error)),
        )
        .finally(() => {
          this.inFlight -= 1;
          this.pump();
        });
    }
  }

  private takeGroup(): Pending<Item, Outcome>[] {
    let size = 0;
    let count = 0;
    for (const { item } of this.pending) {
      const itemSize = this.limits.sizeOf(item);
      if (count > 0 && size + itemSize > this.limits.maxPerGroup) break;
      size += itemSize;
      count += 1;
    }
    return this.pending.splice(0, count);
  }
}
