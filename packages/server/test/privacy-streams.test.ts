import type { DataContractInput, StreamIngestResult } from '@lethe/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MasterKey } from '../src/auth/master-key.js';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import {
  decryptField,
  FieldDecryptError,
  isFieldCiphertext,
  keyIdOf,
  unwrapFieldKey,
} from '../src/streams/field-crypto.js';
import { parseDuration } from '../src/lib/duration.js';
import { createLethe, type Lethe } from '../src/server.js';
import { StreamRetentionSweep } from '../src/streams/stream-retention-sweep.js';
import type { StreamPage } from '../src/streams/stream-log.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';

const available = await availableBackends();
const DAY = 86_400_000;
/** Events of yesterday and of today: two rotation periods (keys rotate daily, at 00:00 UTC). */
const TODAY = new Date(Math.floor(Date.now() / DAY) * DAY + 3_600_000).toISOString();
const YESTERDAY = new Date(Date.parse(TODAY) - DAY).toISOString();

const CLICKSTREAM: DataContractInput = {
  version: 1,
  description: 'Page views of the shop.',
  schema: {
    type: 'object',
    required: ['sessionId', 'customerId', 'url'],
    properties: {
      sessionId: { type: 'string' },
      customerId: { type: 'string' },
      url: { type: 'string' },
      email: { type: 'string' },
      address: { type: 'object', properties: { city: { type: 'string' } } },
      items: { type: 'integer' },
    },
  },
  keyLink: 'sessionId',
  subject: 'customerId',
  personal: [
    { attribute: 'customerId', purposes: ['essential.orders'] },
    { attribute: 'email', purposes: ['marketing.email'] },
    { attribute: 'address.city', purposes: ['analytics'] },
  ],
  rules: [{ attribute: 'url', pattern: '^https://' }],
};

let serial = 0;
function click(
  customer: string,
  options: { consent?: string[]; at?: string; session?: string; email?: string; city?: string } = {},
) {
  serial += 1;
  return {
    id: `click-${serial}`,
    contract: 'clickstream@1',
    consent: options.consent ?? ['essential', 'marketing.email', 'analytics'],
    at: options.at ?? TODAY,
    data: {
      sessionId: options.session ?? `session-of-${customer}`,
      customerId: customer,
      url: 'https://shop.example/cart',
      email: options.email ?? `${customer}@mail.example`,
      address: { city: options.city ?? `City-of-${customer}` },
      items: 2,
    },
  };
}

describe.each(ALL_BACKENDS)('privacy streams: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let masterKey: MasterKey;
  let dispose: () => Promise<void>;
  const tokens = {} as Record<'admin' | 'dpo' | 'service', string>;

  beforeEach(async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    const location = await backend.create();
    masterKey = MasterKey.generate();
    lethe = await createLethe({ ...location, rateLimit: false, masterKey });
    dispose = async () => {
      await lethe.close();
      await location.dispose();
    };
    for (const role of ['admin', 'dpo', 'service'] as const) {
      tokens[role] = (
        await lethe.tokens.mint({
          subject: `streams-${role}`,
          role,
          ttlSeconds: 600,
          ...(role === 'service' ? { system: 'shop' } : {}),
        })
      ).token;
    }
  });
  afterEach(async () => {
    if (!missing) await dispose();
  });

  function send(method: string, url: string, payload?: unknown, as: keyof typeof tokens = 'admin') {
    return lethe.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${tokens[as]}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  async function publish(events: unknown[]): Promise<StreamIngestResult> {
    const response = await send('POST', '/v1/streams/events', events, 'service');
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }
  async function read(query = ''): Promise<StreamPage> {
    const limit = query.includes('limit=') ? '' : 'limit=1000';
    const response = await send('GET', `/v1/streams/events?${limit}${query}`, undefined, 'service');
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }
  const db = () => lethe.services.store.repository.db;

  async function putClickstream() {
    const response = await send('PUT', '/v1/contracts/clickstream', CLICKSTREAM);
    expect(response.statusCode, response.body).toBe(201);
  }

  describe('contracts', () => {
    it('publishes immutable versions: same content is a no-op, other content a 409', async () => {
      await putClickstream();
      const again = await send('PUT', '/v1/contracts/clickstream', CLICKSTREAM, 'dpo');
      expect(again.statusCode).toBe(200);
      // Key order does not make another content.
      const reordered = { ...CLICKSTREAM, personal: CLICKSTREAM.personal, keyLink: 'sessionId', version: 1 };
      expect((await send('PUT', '/v1/contracts/clickstream', reordered)).statusCode).toBe(200);

      const changed = await send('PUT', '/v1/contracts/clickstream', {
        ...CLICKSTREAM,
        description: 'other',
      });
      expect(changed.statusCode).toBe(409);
      expect(changed.json().error.code).toBe('CONTRACT_VERSION_EXISTS');

      const v2 = await send('PUT', '/v1/contracts/clickstream', { ...CLICKSTREAM, version: 2, rules: [] });
      expect(v2.statusCode).toBe(201);
      const history = (await send('GET', '/v1/contracts/clickstream', undefined, 'service')).json();
      expect(history.versions).toEqual([1, 2]);
      expect(history.latest.version).toBe(2);
      expect(history.latest.rules).toEqual([]);
      const first = (await send('GET', '/v1/contracts/clickstream/versions/1')).json();
      expect(first).toMatchObject({ name: 'clickstream', version: 1, keyLink: 'sessionId' });
      expect(first.rules).toEqual(CLICKSTREAM.rules);
      const list = (await send('GET', '/v1/contracts')).json().items;
      expect(list.map((c: { name: string; version: number }) => `${c.name}@${c.version}`)).toEqual([
        'clickstream@2',
      ]);

      const absent = await send('GET', '/v1/contracts/clickstream/versions/3');
      expect([absent.statusCode, absent.json().error.code]).toEqual([404, 'CONTRACT_NOT_FOUND']);
      const none = await send('GET', '/v1/contracts/nothing');
      expect([none.statusCode, none.json().error.code]).toEqual([404, 'CONTRACT_NOT_FOUND']);
      const audit = await db()
        .selectFrom('audit_log')
        .select('target')
        .where('action', '=', 'contract.put')
        .execute();
      expect(audit.map((row) => row.target)).toEqual(['contract:clickstream@1', 'contract:clickstream@2']);
    });

    it('refuses invalid contracts with the path and reason', async () => {
      const unknownPurpose = await send('PUT', '/v1/contracts/clickstream', {
        ...CLICKSTREAM,
        personal: [{ attribute: 'email', purposes: ['marketing.carrier_pigeon'] }],
      });
      expect(unknownPurpose.statusCode).toBe(400);
      expect(unknownPurpose.json().error).toMatchObject({
        code: 'CONTRACT_INVALID',
        details: { path: 'personal[0].purposes[0]', reason: 'unknown_purpose' },
      });
      const badRetention = await send('PUT', '/v1/contracts/clickstream', {
        ...CLICKSTREAM,
        keyRetention: '90 days',
      });
      expect(badRetention.json().error).toMatchObject({
        code: 'CONTRACT_INVALID',
        details: { path: 'keyRetention', reason: 'invalid_key_retention' },
      });
      const undeclared = await send('PUT', '/v1/contracts/clickstream', { ...CLICKSTREAM, keyLink: 'nope' });
      expect(undeclared.json().error.details).toMatchObject({ path: 'keyLink' });
      const badName = await send('PUT', '/v1/contracts/bad@name', CLICKSTREAM);
      expect(badName.statusCode).toBe(400);
      expect((await send('GET', '/v1/contracts')).json().items).toEqual([]);
    });

    it('come from manifests, and export and apply back unchanged', async () => {
      const manifest = {
        contracts: [
          { name: 'clickstream', ...CLICKSTREAM },
          { name: 'clickstream', ...CLICKSTREAM, version: 2, keyRetention: 'P30D' },
        ],
      };
      const applied = await send('POST', '/v1/manifest', manifest);
      expect(applied.statusCode, applied.body).toBe(200);
      expect(applied.json().changes).toEqual([
        { section: 'contracts', name: 'clickstream@1', action: 'created', path: 'contracts[0]' },
        { section: 'contracts', name: 'clickstream@2', action: 'created', path: 'contracts[1]' },
      ]);
      const exported = (await send('GET', '/v1/manifest')).json();
      expect(exported.contracts).toEqual(manifest.contracts);
      const back = (await send('POST', '/v1/manifest?prune=true', exported)).json();
      expect(back.summary).toMatchObject({ created: 0, changed: 0, removed: 0 });

      const conflicting = await send('POST', '/v1/manifest', {
        contracts: [{ name: 'clickstream', ...CLICKSTREAM, description: 'rewritten' }],
      });
      expect(conflicting.statusCode).toBe(409);
      expect(conflicting.json().error).toMatchObject({
        code: 'CONTRACT_VERSION_EXISTS',
        details: { path: 'contracts[0]' },
      });
    });
  });

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

  describe('keys', () => {
    it('rotate: events of two periods get two keys', async () => {
      await putClickstream();
      await publish([
        click('c-1', { at: YESTERDAY }),
        click('c-1', { at: TODAY }),
        click('c-1', { at: TODAY }),
      ]);
      const rows = await db().selectFrom('stream_events').select(['key_id', 'data']).orderBy('seq').execute();
      const [yesterday, today, todayAgain] = rows.map((row) => row.key_id);
      expect(yesterday).not.toBe(today);
      expect(today).toBe(todayAgain);
      expect(keyIdOf(JSON.parse(rows[0]!.data).email)).toBe(yesterday);
      const keys = (await send('GET', '/v1/subjects/c-1/stream-keys', undefined, 'dpo')).json().items;
      expect(keys.map((key: { id: string }) => key.id)).toEqual([yesterday, today]);
      expect(keys[0]).toMatchObject({
        contract: 'clickstream',
        periodStart: new Date(Math.floor(Date.parse(YESTERDAY) / DAY) * DAY).toISOString(),
        periodEnd: new Date(Math.floor(Date.parse(TODAY) / DAY) * DAY).toISOString(),
      });
      expect(JSON.stringify(keys)).not.toMatch(/wrapped|material/);
    });

    it('shredding a subject makes its stored ciphertexts undecryptable, and others stay readable', async () => {
      await putClickstream();
      await publish([
        click('c-1', { at: YESTERDAY }),
        click('c-1', { at: TODAY }),
        click('c-2', { at: TODAY }),
      ]);
      const shred = await send('DELETE', '/v1/subjects/c-1/stream-keys', undefined, 'dpo');
      expect(shred.statusCode, shred.body).toBe(200);
      expect(shred.json()).toEqual({ shredded: 2 });
      expect((await send('DELETE', '/v1/subjects/c-1/stream-keys')).json()).toEqual({ shredded: 0 });

      const derived = await read('&purposes=marketing.email');
      expect(derived.events.map((e) => [e.data['email'], e.unreadable])).toEqual([
        [null, ['email']],
        [null, ['email']],
        ['c-2@mail.example', undefined],
      ]);

      // Whatever remains in the store does not open the shredded subject's ciphertexts: the key
      // rows are gone, tombstones hold no material, and no remaining key opens them either.
      const stored = await db().selectFrom('stream_events').selectAll().orderBy('seq').execute();
      const shreddedIds = new Set(stored.slice(0, 2).map((row) => row.key_id));
      const remaining = await db().selectFrom('field_keys').selectAll().execute();
      expect(remaining.map((row) => row.subject)).toEqual(['c-2']);
      expect(remaining.some((row) => shreddedIds.has(row.id))).toBe(false);
      const tombstones = await db().selectFrom('field_key_tombstones').selectAll().execute();
      expect(new Set(tombstones.map((row) => row.id))).toEqual(shreddedIds);
      expect(Object.keys(tombstones[0]!)).not.toContain('wrapped');
      for (const row of stored.slice(0, 2)) {
        const ciphertext = JSON.parse(row.data).email as string;
        for (const key of remaining) {
          const material = unwrapFieldKey(masterKey, key.id, key.wrapped);
          // Even with the id forged to match, another key's material fails authentication.
          const forged = {
            id: keyIdOf(ciphertext)!,
            keyLink: key.key_link,
            subject: key.subject,
            material,
            createdAt: key.created_at,
            expiresAt: key.period_end,
          };
          const context = { contract: 'clickstream@1', attribute: 'email' };
          expect(() => decryptField(forged, context, ciphertext)).toThrow(FieldDecryptError);
        }
      }
      // The other subject's key still opens its event.
      const other = remaining[0]!;
      const otherKey = {
        id: other.id,
        keyLink: other.key_link,
        subject: other.subject,
        material: unwrapFieldKey(masterKey, other.id, other.wrapped),
        createdAt: other.created_at,
        expiresAt: other.period_end,
      };
      const otherCiphertext = JSON.parse(stored[2]!.data).email as string;
      expect(decryptField(otherKey, { contract: 'clickstream@1', attribute: 'email' }, otherCiphertext)).toBe(
        'c-2@mail.example',
      );

      // A new event of a shredded period is refused, not stored under a new key.
      const late = click('c-1', { at: TODAY });
      const refused = await publish([late]);
      expect(refused.accepted).toBe(0);
      expect(refused.rejected).toMatchObject([
        { index: 0, id: late.id, reasons: [{ code: 'KEY_SHREDDED', path: 'data.sessionId' }] },
      ]);
      // A redelivery of an event stored before the shred is still only a duplicate.
      expect(await publish([{ ...late, id: stored[1]!.id }])).toEqual({
        accepted: 0,
        duplicates: 1,
        rejected: [],
      });

      const listed = (await send('GET', '/v1/subjects/c-1/stream-keys', undefined, 'dpo')).json().items;
      expect(listed.map((key: { shredReason?: string }) => key.shredReason)).toEqual([
        'shredded through the API',
        'shredded through the API',
      ]);
      const audit = await db()
        .selectFrom('audit_log')
        .select('target')
        .where('action', '=', 'keys.shred')
        .execute();
      expect(audit.map((row) => row.target)).toEqual(['subject:c-1 keys=2', 'subject:c-1 keys=0']);
    });

    it('shreds one key by id', async () => {
      await putClickstream();
      await publish([click('c-1', { at: YESTERDAY }), click('c-1', { at: TODAY })]);
      const [old] = await db().selectFrom('stream_events').select('key_id').orderBy('seq').execute();
      const response = await send('DELETE', `/v1/stream-keys/${old!.key_id}`);
      expect(response.json()).toEqual({ shredded: 1 });
      expect((await send('DELETE', `/v1/stream-keys/${old!.key_id}`)).json()).toEqual({ shredded: 0 });
      const derived = await read('&purposes=marketing.email');
      expect(derived.events.map((e) => e.data['email'])).toEqual([null, 'c-1@mail.example']);
    });

    it('a completed delete request shreds the keys of its subject; a DSAR does not', async () => {
      await putClickstream();
      await publish([click('c-1'), click('c-2')]);
      // A DSAR for c-2 completes too, and shreds nothing: only erasures do.
      const dsar = await send('POST', '/v1/requests', {
        id: 'dsar-c-2',
        type: 'dsar',
        identifiers: { subject: 'c-2' },
      });
      expect(dsar.statusCode, dsar.body).toBe(201);
      const created = await send('POST', '/v1/requests', {
        id: 'erase-c-1',
        type: 'delete',
        identifiers: { subject: 'c-1' },
      });
      expect(created.statusCode, created.body).toBe(201);
      let status = '';
      for (let attempt = 0; attempt < 100 && status !== 'completed'; attempt += 1) {
        status = (await send('GET', '/v1/requests/erase-c-1')).json().status;
        if (status !== 'completed') await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(status).toBe('completed');
      expect((await send('GET', '/v1/requests/dsar-c-2')).json().status).toBe('completed');
      const keys = (await send('GET', '/v1/subjects/c-1/stream-keys', undefined, 'dpo')).json().items;
      expect(keys).toMatchObject([{ shredReason: 'rights request erase-c-1' }]);
      expect(keys[0].shreddedAt).toBeDefined();
      const derived = await read('&purposes=marketing.email');
      expect(derived.events.map((e) => e.data['email'])).toEqual([null, 'c-2@mail.example']);
      const audit = await db()
        .selectFrom('audit_log')
        .select('target')
        .where('action', '=', 'keys.shred')
        .execute();
      expect(audit.map((row) => row.target)).toEqual(['request:erase-c-1 keys=1']);
    });

    it('the stream retention deletes events past it, but none an export has not delivered', async () => {
      await putClickstream();
      await publish([click('c-1', { at: YESTERDAY }), click('c-2', { at: YESTERDAY }), click('c-3')]);
      const now = Date.parse(TODAY) + 3_600_000;
      // An export that has delivered only the first event holds the second back.
      await lethe.services.exportRunner?.stop();
      await lethe.services.streamExports.put(LETHE_ITSELF, 'slow', { target: 'file' });
      await db().updateTable('stream_exports').set({ position: 1 }).where('name', '=', 'slow').execute();
      const sweep = new StreamRetentionSweep(lethe.services.store, parseDuration('PT12H'));
      expect(await sweep.run(now)).toBe(1);
      expect((await read()).events.map((event) => event.seq)).toEqual([2, 3]);
      // Once it has delivered everything, the rest of what is past retention goes; today's stays.
      await db().updateTable('stream_exports').set({ position: 3 }).where('name', '=', 'slow').execute();
      expect(await sweep.run(now)).toBe(1);
      expect(await sweep.run(now)).toBe(0);
      expect((await read()).events.map((event) => event.seq)).toEqual([3]);
      const pruned = (await lethe.services.store.repository.audit.entries(0, 1_000)).filter(
        (entry) => entry.action === 'streams.prune',
      );
      expect(pruned.map((entry) => entry.target.split(' ')[0])).toEqual(['events:1', 'events:1']);
      // Without a retention nothing is ever deleted.
      expect(await new StreamRetentionSweep(lethe.services.store, undefined).run(now + 365 * DAY)).toBe(0);
    });

    it('the retention sweep shreds keys whose period ended longer ago than the contract keeps keys', async () => {
      await send('PUT', '/v1/contracts/clickstream', { ...CLICKSTREAM, keyRetention: 'P2D' });
      const old = (days: number) => new Date(Date.parse(TODAY) - days * DAY).toISOString();
      await publish([
        click('c-1', { at: old(5) }),
        click('c-1', { at: old(3) }),
        click('c-1', { at: old(2) }),
        click('c-1', { at: TODAY }),
      ]);
      const now = Date.parse(TODAY);
      const shredded = await lethe.services.keyRetention.run(now);
      // Periods ended 4 and 2 days (and 1 h) ago are past 2 days; the one that ended 1 day ago is not.
      expect(shredded).toEqual(new Map([['clickstream', 2]]));
      expect(await lethe.services.keyRetention.run(now)).toEqual(new Map());
      const derived = await read('&purposes=marketing.email');
      expect(derived.events.map((e) => e.data['email'])).toEqual([
        null,
        null,
        'c-1@mail.example',
        'c-1@mail.example',
      ]);
      const audit = await db()
        .selectFrom('audit_log')
        .select(['actor', 'target'])
        .where('action', '=', 'keys.shred')
        .execute();
      expect(audit).toEqual([
        { actor: `${LETHE_ITSELF.role}:${LETHE_ITSELF.id}`, target: 'contract:clickstream keys=2' },
      ]);
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
