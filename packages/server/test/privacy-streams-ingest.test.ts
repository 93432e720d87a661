import type { StreamIngestResult } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import { isFieldCiphertext, keyIdOf } from '../src/streams/field-crypto.js';
import { ALL_BACKENDS } from './support/backends.js';
import {
  click,
  CLICKSTREAM,
  DAY,
  db,
  lethe,
  openStreamsLethe,
  publish,
  putClickstream,
  read,
  send,
  tokens,
} from './support/privacy-streams-harness.js';
/** Ingest into privacy streams: every reason an event is refused, NDJSON, duplicates, ciphertexts at rest. */

describe.each(ALL_BACKENDS)('privacy streams: $name', (backend) => {
  openStreamsLethe(backend);

  describe('ingest', () => {
    it('refuses each non-conforming event with every reason and its path, and stores the rest', async () => {
      await putClickstream();
      const good = click('c-1');
      const base = click('c-1');
      const batch = [
        'not an object',
        { ...base, id: 'e-extra-envelope', extra: 1 },
        { ...base, id: 'e-unknown-contract', contract: 'pageviews@1' },
        { ...base, id: 'e-unknown-version', contract: 'clickstream@7' },
        { ...base, id: 'e-no-contract', contract: 'clickstream' },
        { ...base, id: 'e-consent', consent: ['marketing.carrier_pigeon'] },
        { ...base, id: 'e-missing', data: { ...base.data, url: undefined } },
        { ...base, id: 'e-extra', data: { ...base.data, shoeSize: 44 } },
        { ...base, id: 'e-type', data: { ...base.data, items: 'two' } },
        { ...base, id: 'e-rule', data: { ...base.data, url: 'http://shop.example' } },
        { ...base, id: 'e-at', at: 'yesterday' },
        { ...base, id: 'e-future', at: new Date(Date.now() + DAY).toISOString() },
        good,
      ];
      const result = await publish(batch);
      expect(result.accepted).toBe(1);
      expect(result.duplicates).toBe(0);
      const reasons = Object.fromEntries(
        result.rejected.map((r) => [
          r.id ?? `#${r.index}`,
          r.reasons.map((reason) => [reason.code, reason.path, reason.expected, reason.got, reason.rule]),
        ]),
      );
      const u = undefined;
      expect(reasons).toEqual({
        '#0': [['INVALID_ENVELOPE', '', u, u, u]],
        'e-extra-envelope': [['INVALID_ENVELOPE', 'extra', u, u, u]],
        'e-unknown-contract': [['UNKNOWN_CONTRACT', 'contract', u, u, u]],
        'e-unknown-version': [['CONTRACT_VERSION_MISMATCH', 'contract', u, u, u]],
        'e-no-contract': [['INVALID_ENVELOPE', 'contract', u, u, u]],
        'e-consent': [['CONSENT_INVALID', 'consent[0]', u, u, u]],
        'e-missing': [['MISSING_ATTRIBUTE', 'data.url', u, u, u]],
        'e-extra': [['EXTRA_ATTRIBUTE', 'data.shoeSize', u, u, u]],
        'e-type': [['WRONG_TYPE', 'data.items', 'integer', 'string', u]],
        'e-rule': [['RULE_VIOLATION', 'data.url', u, u, 'pattern']],
        'e-at': [['INVALID_ENVELOPE', 'at', u, u, u]],
        'e-future': [['INVALID_ENVELOPE', 'at', u, u, u]],
      });
      expect(result.rejected.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const page = await read();
      expect(page.events.map((event) => event.id)).toEqual([good.id]);
    });

    it('refuses events of a contract whose purpose was taken out of the taxonomy since', async () => {
      const taxonomy = { purposes: [{ key: 'marketing.email.digest', description: 'Weekly digest.' }] };
      expect((await send('PUT', '/v1/taxonomy', taxonomy)).statusCode).toBeLessThan(300);
      const digest = {
        ...CLICKSTREAM,
        personal: [{ attribute: 'email', purposes: ['marketing.email.digest'] }],
      };
      expect((await send('PUT', '/v1/contracts/clickstream', digest)).statusCode).toBe(201);
      expect((await publish([click('c-1', { consent: ['marketing.email.digest'] })])).accepted).toBe(1);
      expect((await send('PUT', '/v1/taxonomy', {})).statusCode).toBeLessThan(300);
      const refused = await publish([click('c-1')]);
      expect(refused.rejected).toMatchObject([
        {
          reasons: [
            { code: 'UNKNOWN_CONTRACT', path: 'contract', message: expect.stringContaining('taxonomy') },
          ],
        },
      ]);
    });

    it('takes NDJSON, refuses a line that is not JSON on its own, and 413s an oversized batch', async () => {
      await putClickstream();
      const first = click('c-1');
      const second = click('c-2');
      const response = await lethe.app.inject({
        method: 'POST',
        url: '/v1/streams/events',
        headers: { authorization: `Bearer ${tokens.service}`, 'content-type': 'application/x-ndjson' },
        payload: `${JSON.stringify(first)}\n{"id": oops\n${JSON.stringify(second)}\n`,
      });
      expect(response.statusCode, response.body).toBe(200);
      const result = response.json<StreamIngestResult>();
      expect(result.accepted).toBe(2);
      expect(result.rejected).toMatchObject([
        { index: 1, reasons: [{ code: 'INVALID_ENVELOPE', path: '' }] },
      ]);

      const wrapped = await send('POST', '/v1/streams/events', { events: [click('c-3')] }, 'service');
      expect(wrapped.json().accepted).toBe(1);

      const tooMany = await send(
        'POST',
        '/v1/streams/events',
        Array.from({ length: 5_001 }, () => ({})),
      );
      expect([tooMany.statusCode, tooMany.json().error.code]).toEqual([413, 'BATCH_TOO_LARGE']);
    });

    it('counts an event id seen before as a duplicate, in the stream and within a batch', async () => {
      await putClickstream();
      const event = click('c-1');
      expect(await publish([event])).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
      expect(await publish([event, click('c-2')])).toEqual({ accepted: 1, duplicates: 1, rejected: [] });
      const twin = click('c-3');
      expect(await publish([twin, twin])).toEqual({ accepted: 1, duplicates: 1, rejected: [] });
      const page = await read();
      expect(page.events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(page.lastSeq).toBe(3);
      const audit = await db()
        .selectFrom('audit_log')
        .select('target')
        .where('action', '=', 'streams.publish')
        .orderBy('seq')
        .execute();
      expect(audit.map((row) => row.target)).toEqual([
        'events:1 contracts:clickstream@1',
        'events:1 contracts:clickstream@1',
        'events:1 contracts:clickstream@1',
      ]);
    });

    it('stores no personal value in clear: the base stream holds ciphertexts only', async () => {
      await putClickstream();
      await publish([
        click('customer-4711', { email: 'ann.lee@mail.example', city: 'Ljubljana', session: 's-1' }),
        click('customer-4711', { email: 'ann.lee@mail.example', city: 'Ljubljana', session: 's-1' }),
      ]);
      const rows = await db().selectFrom('stream_events').selectAll().execute();
      expect(rows).toHaveLength(2);
      const stored = JSON.stringify(rows);
      for (const clear of ['customer-4711', 'ann.lee@mail.example', 'Ljubljana']) {
        expect(stored).not.toContain(clear);
      }
      const [first, second] = rows.map((row) => JSON.parse(row.data));
      expect(isFieldCiphertext(first.email)).toBe(true);
      expect(isFieldCiphertext(first.address.city)).toBe(true);
      expect(isFieldCiphertext(first.customerId)).toBe(true);
      expect(first.url).toBe('https://shop.example/cart');
      expect(first.sessionId).toBe('s-1');
      // Randomised: the same value under the same key encrypts differently each time.
      expect(keyIdOf(first.email)).toBe(keyIdOf(second.email));
      expect(first.email).not.toBe(second.email);
      // The base stream as read is the stored one.
      const base = await read();
      expect(base.events[0]?.data).toEqual(first);
    });
  });
});
