import { describe, expect, it } from 'vitest';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { decryptField, FieldDecryptError, keyIdOf, unwrapFieldKey } from '../src/streams/field-crypto.js';
import { parseDuration } from '../src/lib/duration.js';
import { StreamRetentionSweep } from '../src/streams/stream-retention-sweep.js';
import { ALL_BACKENDS } from './support/backends.js';
import {
  click,
  CLICKSTREAM,
  DAY,
  db,
  lethe,
  masterKey,
  openStreamsLethe,
  publish,
  putClickstream,
  read,
  send,
  TODAY,
  YESTERDAY,
} from './support/privacy-streams-harness.js';
/** The keys of privacy streams: rotation, shredding and retention; on every backend. */

describe.each(ALL_BACKENDS)('privacy streams: $name', (backend) => {
  openStreamsLethe(backend);

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
});
