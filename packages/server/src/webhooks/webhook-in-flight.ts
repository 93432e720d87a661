/**
 * The delivery attempts under way on this node, by subscription: the deliverer starts attempts
 * without waiting for them (a slow receiver holds up only its own), reads here how many each
 * subscription has, and `drain` waits for them all when the server stops.
 */
export class InFlight {
  private readonly attempts = new Map<string, Promise<void>>();
  private readonly webhooks = new Map<string, { count: number; cap: number }>();

  get size(): number {
    return this.attempts.size;
  }

  has(id: string): boolean {
    return this.attempts.has(id);
  }

  count(webhook: string): number {
    return this.webhooks.get(webhook)?.count ?? 0;
  }

  /** Subscriptions with as many attempts under way as they may have. */
  full(): string[] {
    return [...this.webhooks].filter(([, { count, cap }]) => count >= cap).map(([name]) => name);
  }

  /** Runs `work` for delivery `id` of `webhook`, which may have `cap` attempts at once; `work` must not reject. */
  start(id: string, webhook: string, cap: number, work: () => Promise<void>): void {
    const entry = this.webhooks.get(webhook) ?? { count: 0, cap };
    this.webhooks.set(webhook, { count: entry.count + 1, cap });
    const done = work().finally(() => {
      this.attempts.delete(id);
      const left = (this.webhooks.get(webhook)?.count ?? 1) - 1;
      if (left > 0) this.webhooks.set(webhook, { count: left, cap });
      else this.webhooks.delete(webhook);
    });
    this.attempts.set(id, done);
  }

  /** Waits until no attempt is under way (each ends by its timeout at the latest). */
  async drain(): Promise<void> {
    while (this.attempts.size > 0) await Promise.allSettled([...this.attempts.values()]);
  }
}
