import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ExportSink } from './export-sink.js';
import type { StreamPage } from '../stream-log.js';

/** Where a NATS export keeps its position (the export's row in the store). */
export interface ExportPositionStore {
  load(): Promise<number>;
  /** Fails when this node no longer holds the export (its lease went to another node). */
  save(position: number): Promise<void>;
}

/**
 * How long one publish waits for JetStream's ack. The client's default (5 s) was seen to expire
 * for pages of 500 under load on a small machine; a page that times out is published again
 * anyway (the message ids make the repeats no-ops), so waiting longer only avoids needless work.
 */
const PUBLISH_ACK_TIMEOUT_MS = 30_000;

/**
 * A real-time export to a NATS JetStream subject: every viewed event is published as JSON with
 * `Nats-Msg-Id: <export>:<event id>`, all of a page at once, and the position is stored only
 * after JetStream acknowledged every one. A restart re-publishes at most the page it was on, and
 * JetStream drops those as duplicates within its duplicate window (see `NatsSettings`).
 */
export class NatsExportSink implements ExportSink {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly exportName: string,
    private readonly subject: string,
    private readonly positions: ExportPositionStore,
  ) {
    this.js = jetstream(nc);
  }

  open(): Promise<number> {
    return this.positions.load();
  }

  async write(page: StreamPage): Promise<void> {
    await Promise.all(
      page.events.map((event) =>
        this.js.publish(this.subject, JSON.stringify(event), {
          msgID: `${this.exportName}:${event.id}`,
          timeout: PUBLISH_ACK_TIMEOUT_MS,
        }),
      ),
    );
    await this.positions.save(page.lastSeq);
  }

  async idle(): Promise<void> {}

  async close(): Promise<void> {}
}
