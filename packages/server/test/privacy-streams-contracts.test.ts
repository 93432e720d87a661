import { describe, expect, it } from 'vitest';
import { ALL_BACKENDS } from './support/backends.js';
import {
  CLICKSTREAM,
  db,
  openStreamsLethe,
  putClickstream,
  send,
} from './support/privacy-streams-harness.js';
/** Data contracts of privacy streams: immutable versions, validation, manifests; on every backend. */

describe.each(ALL_BACKENDS)('privacy streams: $name', (backend) => {
  openStreamsLethe(backend);

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
});
