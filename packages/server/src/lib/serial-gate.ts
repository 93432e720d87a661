/**
 * Runs the work given to it one at a time, in the order given (a FIFO async mutex): for a
 * resource that synchronous code must not find busy, such as an SQLite write lock that another
 * thread holds (a synchronous busy wait would block the event loop).
 */
export class SerialGate {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    // The next work waits for this one to settle, whether it succeeds or fails.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
