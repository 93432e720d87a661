import type { DataContractInput, StreamIngestResult } from '@lethe/api';
import { LETHE_ITSELF, type Principal } from '../../src/auth/principal.js';
import type { Services } from '../../src/services.js';
import type { StreamIngest, StreamReader } from '../../src/streams/stream-log.js';

/**
 * A small contract and a publisher of its events, for the transport tests (NATS ingest, file and
 * NATS exports) that run on the real stream core: events are validated, their e-mail address is
 * encrypted under the key of their customer, and they are appended to the base stream in the
 * store. The address may be read by derived streams for `marketing` (and purposes below it).
 */
export const CLICKS_CONTRACT: DataContractInput = {
  version: 1,
  schema: {
    type: 'object',
    required: ['url', 'customerId', 'email'],
    properties: { url: { type: 'string' }, customerId: { type: 'string' }, email: { type: 'string' } },
  },
  keyLink: 'customerId',
  subject: 'customerId',
  personal: [{ attribute: 'email', purposes: ['marketing'] }],
};

/** Publishes `clicks@1` (as Lethe itself, an admin). */
export async function publishClicksContract(services: Services): Promise<void> {
  await services.contracts.put(LETHE_ITSELF, 'clicks', CLICKS_CONTRACT);
}

/** The envelope of click number `n`, as a publisher sends it. */
export function click(id: string, n: number, consent: readonly string[] = ['essential']) {
  return {
    id,
    contract: 'clicks@1',
    consent: [...consent],
    data: {
      url: `https://example.test/${n}`,
      customerId: `c-${n % 7}`,
      email: `person-${n}@mail.example`,
    },
  };
}

/**
 * Appends clicks the way a publisher would: ids `<prefix>-<n>`, where `n` counts every click this
 * publisher appended (so with one publisher per store, `n` is also the event's position).
 */
export class ClickPublisher {
  private appended = 0;

  constructor(
    private readonly streams: StreamIngest,
    private readonly principal: Principal = { id: 'clicks-publisher', role: 'service' },
  ) {}

  async append(count: number, prefix = 'e', consent: readonly string[] = ['essential']): Promise<void> {
    const first = this.appended + 1;
    const envelopes = Array.from({ length: count }, (_, k) =>
      click(`${prefix}-${first + k}`, first + k, consent),
    );
    const result: StreamIngestResult = await this.streams.ingest(this.principal, envelopes);
    if (result.accepted !== count) {
      throw new Error(`the stream took ${result.accepted} of ${count} clicks: ${JSON.stringify(result)}`);
    }
    this.appended += count;
  }
}

/** The ids of the base stream in stream order, as the store holds them. */
export async function storedIds(reader: StreamReader): Promise<string[]> {
  const ids: string[] = [];
  for (let after = 0; ;) {
    const page = await reader.read({}, after, 1_000);
    if (page.lastSeq === after) return ids;
    ids.push(...page.events.map((event) => event.id));
    after = page.lastSeq;
  }
}
