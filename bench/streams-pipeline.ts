import type { StreamIngestResult } from '@lethe/api';
import type { Principal } from '../packages/server/src/auth/principal.js';
import {
  createFieldKey,
  encryptEvent,
  type ContractFields,
  type EventData,
  type FieldKey,
} from '../packages/server/src/domain/field-crypto.js';
import type {
  StoredStreamEvent,
  StreamIngest,
  StreamPage,
  StreamReader,
  StreamView,
} from '../packages/server/src/streams/stream-log.js';

/** The benchmark's event: 10 attributes, 4 of them personal (one key per session). */
export const BENCH_CONTRACT: ContractFields = {
  contract: 'checkout@1',
  personal: new Map([
    ['customerId', ['essential.orders']],
    ['email', ['marketing.email']],
    ['ip', ['security.fraud']],
    ['address.city', ['marketing.profiling']],
  ]),
};

export function benchEvent(n: number): EventData {
  return {
    sessionId: `s-${n % 1000}`,
    customerId: `c-${n % 5000}`,
    email: `person${n % 5000}@example.com`,
    ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    address: { city: 'Amsterdam', country: 'NL' },
    url: `https://shop.example/p/${n % 977}`,
    amountCents: 1999 + (n % 100),
    currency: 'EUR',
    items: 1 + (n % 5),
    at: '2026-11-23T10:00:00Z',
  };
}

/**
 * A STAND-IN for the stream core, until it is merged: ingest encrypts each event's personal
 * values with `encryptEvent` (one key per session, made once and cached, as the key service
 * would) and appends it to an array; no contract validation and no store. The report says so.
 * Swap in the core's `StreamIngest`/`StreamReader` (a `createLethe` with both) to measure the
 * full pipeline.
 */
export class EncryptingMemoryStream implements StreamIngest, StreamReader {
  private readonly events: StoredStreamEvent[] = [];
  private readonly keys = new Map<string, FieldKey>();
  private readonly waiters = new Set<() => void>();

  async ingest(_principal: Principal, envelopes: readonly unknown[]): Promise<StreamIngestResult> {
    for (const envelope of envelopes as { id: string; consent: string[]; data: EventData }[]) {
      const session = String(envelope.data['sessionId']);
      const encrypted = encryptEvent(envelope.data, BENCH_CONTRACT, () => this.keyOf(session));
      const now = Date.now();
      this.events.push({
        seq: this.events.length + 1,
        id: envelope.id,
        contract: BENCH_CONTRACT.contract,
        consent: envelope.consent,
        at: now,
        receivedAt: now,
        data: encrypted.data,
      });
    }
    for (const wake of [...this.waiters]) wake();
    return { accepted: envelopes.length, duplicates: 0, rejected: [] };
  }

  async read(_view: StreamView, afterSeq: number, limit: number): Promise<StreamPage> {
    const events = this.events.slice(afterSeq, afterSeq + limit).map((event) => ({
      seq: event.seq,
      id: event.id,
      contract: event.contract,
      consent: event.consent,
      at: new Date(event.at).toISOString(),
      data: event.data as Record<string, unknown>,
    }));
    return { events, lastSeq: events.at(-1)?.seq ?? afterSeq };
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

  private keyOf(session: string): FieldKey {
    let key = this.keys.get(session);
    if (!key) {
      key = createFieldKey({ keyLink: session, subject: session, eventAt: Date.now(), now: Date.now() });
      this.keys.set(session, key);
    }
    return key;
  }
}
