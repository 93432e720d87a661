import type { ExportSink } from './export-sink.js';
import type { StreamReader, StreamView } from '../stream-log.js';

export interface ExportLoopOptions {
  /** Events read per page (default 500). */
  readonly pageSize?: number;
  /** How long to wait for new events before `idle` (default 1 s). */
  readonly idleWaitMs?: number;
  /** Told each failure; the loop reopens the sink and goes on after a backoff. */
  readonly onError?: (error: unknown) => void;
  /** Told the position after each delivered page. */
  readonly onProgress?: (position: number) => void;
}

const FIRST_RETRY_MS = 500;
const LAST_RETRY_MS = 30_000;

/**
 * Runs one export: reads the view after the sink's position, page by page, and hands each page
 * to the sink. When it has caught up it waits on `waitForEvents`, which wakes as soon as an
 * event is committed, so an event reaches the sink within milliseconds rather than a poll
 * interval. A failure (disk full, NATS down, lease lost) closes the sink; after a backoff it is
 * opened again, which resumes from what the sink made durable.
 */
export class ExportLoop {
  private stopped = false;
  private running: Promise<void> | undefined;
  private wakeStop: () => void = () => undefined;
  private readonly stopSignal = new Promise<void>((resolve) => (this.wakeStop = resolve));
  private retryMs = FIRST_RETRY_MS;
  private readonly pageSize: number;
  private readonly idleWaitMs: number;

  constructor(
    private readonly reader: StreamReader,
    private readonly view: StreamView,
    private readonly sink: ExportSink,
    private readonly options: ExportLoopOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 500;
    this.idleWaitMs = options.idleWaitMs ?? 1_000;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Stops after the page under way; the sink is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeStop();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.deliver();
      } catch (error) {
        if (this.stopped) break;
        this.options.onError?.(error);
        await this.sink.close().catch(() => undefined);
        await this.pause(this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, LAST_RETRY_MS);
      }
    }
    await this.sink.close();
  }

  /** Opens the sink and delivers until stopped (returns) or something fails (throws). */
  private async deliver(): Promise<void> {
    let position = await this.sink.open();
    while (!this.stopped) {
      const page = await this.reader.read(this.view, position, this.pageSize);
      if (page.lastSeq > position) {
        await this.sink.write(page);
        position = page.lastSeq;
        this.retryMs = FIRST_RETRY_MS;
        this.options.onProgress?.(position);
        continue;
      }
      await Promise.race([this.reader.waitForEvents(position, this.idleWaitMs), this.stopSignal]);
      if (!this.stopped) await this.sink.idle();
    }
  }

  private pause(ms: number): Promise<void> {
    return Promise.race([new Promise<void>((resolve) => setTimeout(resolve, ms).unref()), this.stopSignal]);
  }
}
