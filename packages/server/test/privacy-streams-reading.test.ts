import { describe, expect, it } from 'vitest';
import { isFieldCiphertext } from '../src/streams/field-crypto.js';
import { ALL_BACKENDS } from './support/backends.js';
import {
  click,
  lethe,
  openStreamsLethe,
  publish,
  putClickstream,
  read,
  send,
  tokens,
} from './support/privacy-streams-harness.js';
/** Reading privacy streams: derived streams by consent and purpose, and the stream log; on every backend. */

describe.each(ALL_BACKENDS)('privacy streams: $name', (backend) => {
  openStreamsLethe(backend);

  describe('derived streams', () => {
    it('honour each event’s consent and decrypt exactly the attributes of their purposes', async () => {
      await putClickstream();
      const all = click('c-1', { consent: ['essential', 'marketing.email', 'analytics'] });
      const noMarketing = click('c-2', { consent: ['essential', 'analytics'] });
      const parentConsent = click('c-3', { consent: ['marketing'] });
      await publish([all, noMarketing, parentConsent]);

      const marketing = await read('&purposes=marketing.email');
      expect(marketing.lastSeq).toBe(3);
      expect(marketing.events.map((e) => e.id)).toEqual([all.id, parentConsent.id]);
      const [first] = marketing.events;
      expect(first?.data['email']).toBe('c-1@mail.example');
      // Not a marketing attribute: withheld, kept as its ciphertext.
      expect(isFieldCiphertext((first?.data['address'] as { city: unknown }).city)).toBe(true);
      expect(isFieldCiphertext(first?.data['customerId'])).toBe(true);
      expect(first?.unreadable).toBeUndefined();

      const dropped = await read('&purposes=marketing.email&withheld=drop');
      expect(dropped.events[0]?.data).toEqual({
        sessionId: 'session-of-c-1',
        url: 'https://shop.example/cart',
        email: 'c-1@mail.example',
        address: {},
        items: 2,
      });

      const both = await read('&purposes=analytics,essential.orders');
      expect(both.events.map((e) => e.id)).toEqual([all.id, noMarketing.id]);
      expect(both.events[1]?.data).toMatchObject({
        customerId: 'c-2',
        address: { city: 'City-of-c-2' },
      });
      expect(isFieldCiphertext(both.events[1]?.data['email'])).toBe(true);

      // Paging: the left-out events advance the position too.
      const page = await read('purposes=marketing.email&after=1&limit=1');
      expect(page.events).toEqual([]);
      expect(page.lastSeq).toBe(2);

      const unknown = await send('GET', '/v1/streams/events?purposes=telepathy', undefined, 'service');
      expect([unknown.statusCode, unknown.json().error.code]).toEqual([400, 'INVALID_PURPOSE']);
      const forbidden = await send('GET', '/v1/streams/events', undefined, 'dpo');
      expect([forbidden.statusCode, forbidden.json().error.code]).toEqual([403, 'FORBIDDEN']);

      // Reads that hand out personal data in clear are audited; the base stream (ciphertext) is not.
      const reads = (await lethe.services.store.repository.audit.entries(0, 1_000))
        .filter((entry) => entry.action === 'streams.read')
        .map((entry) => entry.target);
      expect(reads).toContain('purposes:marketing.email after:0');
      expect(reads).toContain('purposes:analytics,essential.orders after:0');
      await read('');
      const after = (await lethe.services.store.repository.audit.entries(0, 1_000)).filter(
        (entry) => entry.action === 'streams.read',
      );
      expect(after).toHaveLength(reads.length);
    });

    it('answers NDJSON with the position to read on after', async () => {
      await putClickstream();
      await publish([click('c-1'), click('c-2')]);
      const response = await lethe.app.inject({
        method: 'GET',
        url: '/v1/streams/events?purposes=marketing.email',
        headers: { authorization: `Bearer ${tokens.service}`, accept: 'application/x-ndjson' },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('application/x-ndjson');
      expect(response.headers['x-lethe-last-seq']).toBe('2');
      const lines = response.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines.map((line) => line.data.email)).toEqual(['c-1@mail.example', 'c-2@mail.example']);
    });
  });

  describe('the stream log', () => {
    it('wakes a waiting reader on commit, and times out otherwise', async () => {
      await putClickstream();
      const streams = lethe.services.streams;
      const started = Date.now();
      await streams.waitForEvents(0, 50);
      expect(Date.now() - started).toBeGreaterThanOrEqual(40);
      const waiting = streams.waitForEvents(0, 10_000);
      await publish([click('c-1')]);
      await waiting;
      expect(Date.now() - started).toBeLessThan(5_000);
      // Already past: resolves at once.
      await streams.waitForEvents(0, 10_000);
    });

    it('makes positions visible in commit order: a later append waits for an earlier one', async () => {
      await putClickstream();
      const store = lethe.services.store;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const isHolding = new Promise<void>((resolve) => (holding = resolve));
      const slow = store.transaction(async (repository) => {
        await repository.streams.append([
          {
            id: 'slow-1',
            contract: 'clickstream@1',
            key_id: null,
            at: 0,
            received_at: 0,
            consent: '[]',
            data: '{}',
          },
        ]);
        holding();
        await held;
      });
      await isHolding;
      const fast = publish([click('c-1')]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The fast append cannot have been given a position while the slow one is uncommitted. (On
      // SQLite the read itself waits for the one connection: it is not seen at all.)
      const during = await Promise.race([
        lethe.services.streams.read({}, 0, 10),
        new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 200)),
      ]);
      if (during !== 'blocked') expect(during.events).toEqual([]);
      release();
      await slow;
      expect((await fast).accepted).toBe(1);
      const page = await lethe.services.streams.read({}, 0, 10);
      expect(page.events.map((e) => [e.seq, e.id])).toEqual([
        [1, 'slow-1'],
        [2, expect.stringMatching(/^click-/)],
      ]);
    });
  });
});
