import type { StreamPage } from '../stream-log.js';

/**
 * Where an export delivers a view of the stream: files or a NATS subject. The export loop reads
 * pages after the position the sink resumes from and hands each one over, in order.
 */
export interface ExportSink {
  /**
   * Prepares the sink after a start or restart and returns the position it holds every event
   * up to; the loop reads on after it. Anything delivered past it is made good here (a file
   * part not in the manifest is removed) or is harmless (NATS drops a re-published message).
   */
  open(): Promise<number>;
  /** Delivers a page. `page.lastSeq` may lie past its last event (a derived view left some out). */
  write(page: StreamPage): Promise<void>;
  /** Called when no event came for a while: time-based work such as finishing a file part. */
  idle(): Promise<void>;
  /** Stops cleanly; what was not yet made durable is delivered again after the next `open`. */
  close(): Promise<void>;
}
