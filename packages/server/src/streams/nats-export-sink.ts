import type { NatsConnection } from 'nats';
import type { ExportSink } from './export-sink.js';
import type { StreamPage } from './stream-log.js';

/** Where a NATS export keeps its position (the export's row in the store). */
export interface ExportPositionStore {
  load(): Promise<number>;
  /** Fails when this node no longer holds the export (its lease went to another node). */
  save(position: number): Promise<void>;
}

/**
 * A real-time export to a NATS JetStream subject: every viewed event is published as JSON with
 * `Nats-Msg-Id: <export>:<event id>`, all of a page at once, and the position is stored only
 * after JetStream acknowledged every one. A restart re-publishes at most the page it was on, and
 * JetStream drops those as duplicates within its duplicate window (see `NatsSettings`).
 */
export class NatsExportSink implements ExportSink {
  constructor(
    private readonly nc: NatsConnection,
    private readonly exportName: string,
    private readonly subject: string,
    private readonly positions: ExportPositionStore,
  ) {}

  open(): Promise<number> {
    return this.positions.load();
  }

  async write(page: StreamPage): Promise<void> {
    const js = this.nc.jetstream();
    await Promise.all(
      page.events.map((event) =>
        js.publish(this.subject, JSON.stringify(event), { msgID: `${this.exportName}:${event.id}` }),
      ),
    );
    await this.positions.save(page.lastSeq);
  }

  async idle(): Promise<void> {}

  async close(): Promise<void> {}
}
