import type { StreamIngestResult, StreamIngestRejection } from '@lethe/api';
import type { Principal } from '../../src/auth/principal.js';
import type {
  StoredStreamEvent,
  StreamIngest,
  StreamPage,
  StreamReader,
  StreamView,
} from '../../src/streams/stream-log.js';

/**
 * TEST FIXTURE, not the stream core: `StreamIngest` and `StreamReader` over an in-memory array,
 * so the transport (NATS ingest, file and NATS exports) can be tested against the seam before
 * the real base stream is merged. It does what the seam promises and nothing more: envelopes
 * need an id, a `name@version` contract and a data object; ids are deduplicated; a derived view
 * keeps only events whose consent covers all its purposes. No validation against contracts and
 * no encryption: personal values pass through unchanged.
 */
export class ArrayStreamLog implements StreamIngest, StreamReader {
  readonly events: StoredStreamEvent[] = [];
  /** Every `ingest` call's principal and envelope count, to see what the transport sent. */
  readonly calls: { principal: Principal; count: number }[] = [];
  private failures = 0;
  private readFailures = 0;
  private readonly waiters = new Set<() => void>();

  /** The next `count` ingest calls throw, as a store that is down would. */
  failNext(count: number): void {
    this.failures = count;
  }

  /** The next `count` reads throw, as a store that is down would. */
  failReads(count: number): void {
    this.readFailures = count;
  }

  async ingest(principal: Principal, envelopes: readonly unknown[]): Promise<StreamIngestResult> {
    this.calls.push({ principal, count: envelopes.length });
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('the store is down (fixture)');
    }
    const seen = new Set(this.events.map((event) => event.id));
    const rejected: StreamIngestRejection[] = [];
    let accepted = 0;
    let duplicates = 0;
    envelopes.forEach((envelope, index) => {
      const candidate = envelope as Record<string, unknown> | null;
      const id = typeof candidate?.['id'] === 'string' ? candidate['id'] : undefined;
      const contract = candidate?.['contract'];
      const data = candidate?.['data'];
      if (
        id === undefined ||
        typeof contract !== 'string' ||
        !/^[^@]+@\d+$/.test(contract) ||
        typeof data !== 'object' ||
        data === null
      ) {
        rejected.push({
          index,
          ...(id !== undefined ? { id } : {}),
          reasons: [
            {
              code: 'INVALID_ENVELOPE',
              path: '',
              message: 'id, contract name@version and data are required',
            },
          ],
        });
        return;
      }
      if (seen.has(id)) {
        duplicates += 1;
        return;
      }
      seen.add(id);
      accepted += 1;
      const now = Date.now();
      this.events.push({
        seq: this.events.length + 1,
        id,
        contract,
        consent: Array.isArray(candidate?.['consent']) ? (candidate['consent'] as string[]) : [],
        at: now,
        receivedAt: now,
        data: data as Record<string, unknown>,
      });
    });
    if (accepted > 0) for (const wake of [...this.waiters]) wake();
    return { accepted, duplicates, rejected };
  }

  /** Appends `count` events with ids `<prefix>-<n>`, the way a publisher would. */
  async append(count: number, prefix = 'e', consent: string[] = ['essential']): Promise<void> {
    const start = this.events.length;
    const envelopes = Array.from({ length: count }, (_, n) => ({
      id: `${prefix}-${start + n + 1}`,
      contract: 'clicks@1',
      consent,
      data: { url: `https://example.test/${start + n + 1}`, customerId: `c-${(start + n) % 7}` },
    }));
    await this.ingest({ id: 'fixture', role: 'admin' }, envelopes);
  }

  async read(view: StreamView, afterSeq: number, limit: number): Promise<StreamPage> {
    if (this.readFailures > 0) {
      this.readFailures -= 1;
      throw new Error('the store is down (fixture)');
    }
    const slice = this.events.filter((event) => event.seq > afterSeq).slice(0, limit);
    const visible = slice.filter((event) =>
      (view.purposes ?? []).every((purpose) => event.consent.includes(purpose)),
    );
    return {
      events: visible.map((event) => ({
        seq: event.seq,
        id: event.id,
        contract: event.contract,
        consent: event.consent,
        at: new Date(event.at).toISOString(),
        data: { ...event.data },
      })),
      lastSeq: slice.at(-1)?.seq ?? afterSeq,
    };
  }

  waitForEvents(afterSeq: number, timeoutMs: number): Promise<void> {
    if (this.events.length > afterSeq) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiters.add(wake);
    });
  }

  /** The last position, for an export's lag. */
  async headSeq(): Promise<number> {
    return this.events.length;
  }
}
