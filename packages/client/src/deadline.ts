/**
 * One abort signal for a request that fires when the caller aborts or when the server has been
 * silent for `timeoutMs` while armed. The timer is armed only while the client waits on the
 * server, so a slow consumer of a stream is never mistaken for a slow server.
 */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timeoutMs: number;
  private readonly parent: AbortSignal | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timedOut = false;
  private readonly onParentAbort = () => this.controller.abort(this.parent?.reason);

  constructor(timeoutMs: number, parent?: AbortSignal) {
    this.timeoutMs = timeoutMs;
    this.parent = parent;
    this.signal = this.controller.signal;
    if (parent?.aborted) this.controller.abort(parent.reason);
    else parent?.addEventListener('abort', this.onParentAbort, { once: true });
  }

  /** Why the signal fired, for the error message; undefined while it has not. */
  get reason(): 'timeout' | 'aborted' | undefined {
    if (this.timedOut) return 'timeout';
    return this.signal.aborted ? 'aborted' : undefined;
  }

  /** Starts (or restarts) the silence timer. */
  arm(): void {
    this.disarm();
    if (!Number.isFinite(this.timeoutMs)) return;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`no answer within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Releases the timer and the listener on the caller's signal, which may outlive the request. */
  dispose(): void {
    this.disarm();
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }
}
