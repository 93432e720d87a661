import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';
import { TCF_V1_STRING, tcString } from './support/tc-strings.js';

const available = await availableBackends();
const day = (iso: string) => `${iso}T00:00:00.000Z`;

/**
 * TC strings as consent (docs/consent.md, "TCF"), through HTTP on every backend, with real
 * strings encoded by @iabtechlabtcf/core. `personalised-ads` is consent-based on
 * marketing.profiling, which TCF purposes 3 and 4 feed together.
 */
describe.each(ALL_BACKENDS)('TCF consent: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  let token = '';

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    lethe = await createLethe({ ...location, rateLimit: false });
    dispose = location.dispose;
    token = (await lethe.tokens.mint({ subject: 'tcf-admin', role: 'admin', ttlSeconds: 600 })).token;
    const policies = {
      ...POLICIES,
      'personalised-ads': { purpose: 'marketing.profiling', retention: 'P6M', legalBasis: 'consent' },
    };
    for (const [name, body] of Object.entries(policies)) await call('PUT', `/v1/policies/${name}`, body);
    for (const [name, body] of Object.entries({ ...SYSTEMS, ads: { team: 'growth', datasets: [] } })) {
      await call('PUT', `/v1/systems/${name}`, body);
    }
  });
  afterAll(async () => {
    if (missing) return;
    await lethe.close();
    await dispose();
  });

  function call(method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown, contentType?: string) {
    return lethe.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(contentType ? { 'content-type': contentType } : {}) },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  const consent = (subject: string, body: unknown) => call('PUT', `/v1/subjects/${subject}/consent`, body);
  const history = async (subject: string) =>
    (await call('GET', `/v1/subjects/${subject}/consent`)).json().history as Record<string, unknown>[];
  const showAd = async (subject: string, iso: string) => {
    const events = [usage(subject, 'personalised-ads', ['accounts.email'], `${iso}T00:00:00Z`, 'ads')];
    const response = await call('POST', '/v1/events', { events });
    expect(response.statusCode, response.body).toBe(200);
  };
  const expiresAt = async (subject: string) =>
    (await call('GET', `/v1/subjects/${subject}`)).json().expiresAt as string;

  it.skipIf(missing)(
    'records every mapped purpose from the string, dated by lastUpdated, with the string as proof',
    async () => {
      const string = tcString({
        purposeConsents: [1, 2, 3, 4, 8],
        lastUpdated: '2024-02-03T00:00:00Z',
        cmpId: 31,
        cmpVersion: 5,
        vendorListVersion: 212,
      });
      const response = await consent('t-1', {
        tcString: string,
        notice: 'https://metronome.example/privacy',
        channel: 'web',
        method: 'ignored-for-tcf',
      });
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(body.recorded).toHaveLength(8);
      const granted = Object.entries(body.purposes as Record<string, { granted: boolean }>)
        .filter(([, state]) => state.granted)
        .map(([purpose]) => purpose)
        .sort();
      expect(granted).toEqual(['analytics.product', 'marketing.advertising', 'marketing.profiling']);
      expect(body.purposes['research']).toEqual({
        granted: false,
        since: day('2024-02-03'),
        withdrawnAt: day('2024-02-03'),
      });

      const stored = await history('t-1');
      expect(stored).toHaveLength(8);
      for (const entry of stored) {
        expect(entry).toMatchObject({
          at: day('2024-02-03'),
          method: 'tcf',
          source: 'cmp:31 v5',
          noticeVersion: 'tcf-policy:4 gvl:212',
          notice: 'https://metronome.example/privacy',
          channel: 'web',
          tcString: string,
          recordedBy: { id: 'tcf-admin', role: 'admin' },
        });
      }
    },
  );

  it.skipIf(missing)('lets purposes named beside the string win for their keys', async () => {
    const string = tcString({ purposeConsents: [3, 4, 9], lastUpdated: '2024-02-03T00:00:00Z' });
    const response = await consent('t-2', {
      tcString: string,
      purposes: { 'marketing.profiling': false, 'marketing.email': true },
      method: 'checkbox',
      at: '2024-02-04T00:00:00Z',
    });
    expect(response.statusCode, response.body).toBe(200);
    const { purposes } = response.json();
    expect(purposes['marketing.profiling'].granted).toBe(false);
    expect(purposes['marketing.email'].granted).toBe(true);
    expect(purposes['analytics'].granted).toBe(true);
    const stored = await history('t-2');
    expect(stored).toHaveLength(9);
    const profiling = stored.filter((entry) => entry.purpose === 'marketing.profiling');
    expect(profiling).toHaveLength(1);
    expect(profiling[0]).toMatchObject({ granted: false, method: 'checkbox', at: day('2024-02-04') });
    expect(profiling[0]).not.toHaveProperty('tcString');
  });

  it.skipIf(missing)(
    'keeps data of a consent-based policy while the TCF consent stands; an unset bit withdraws it',
    async () => {
      // Before any consent the use counts as a violation and keeps nothing past itself.
      await showAd('t-3', '2024-01-10');
      expect(await expiresAt('t-3')).toBe(day('2024-01-10'));

      const grant = await consent('t-3', {
        tcString: tcString({ purposeConsents: [1, 3, 4], lastUpdated: '2024-01-01T00:00:00Z' }),
      });
      expect(grant.statusCode, grant.body).toBe(200);
      expect(grant.json().recomputed).toBe(1);
      expect(await expiresAt('t-3')).toBe(day('2024-07-10'));
      await showAd('t-3', '2024-03-01');
      expect(await expiresAt('t-3')).toBe(day('2024-09-01'));

      // The CMP's next string: purpose 4 unset (profiles may no longer be used), so
      // marketing.profiling is withdrawn on its lastUpdated and the field is cut there.
      const withdrawal = await consent('t-3', {
        tcString: tcString({ purposeConsents: [1, 3], lastUpdated: '2024-06-15T00:00:00Z' }),
      });
      expect(withdrawal.statusCode, withdrawal.body).toBe(200);
      expect(withdrawal.json().purposes['marketing.profiling']).toEqual({
        granted: false,
        since: day('2024-06-15'),
        grantedAt: day('2024-01-01'),
        withdrawnAt: day('2024-06-15'),
      });
      expect(withdrawal.json().recomputed).toBe(1);
      expect(await expiresAt('t-3')).toBe(day('2024-06-15'));
      const feed = (await call('GET', '/v1/expiries?day=2024-06-15')).json();
      expect(feed.items.map((item: { subject: string }) => item.subject)).toContain('t-3');

      // Both bits again: the uses made while consent stood count again.
      await consent('t-3', {
        tcString: tcString({ purposeConsents: [1, 3, 4], lastUpdated: '2024-08-01T00:00:00Z' }),
      });
      expect(await expiresAt('t-3')).toBe(day('2024-09-01'));
    },
  );

  it.skipIf(missing)('refuses strings it cannot read as TCF v2.2 with stable codes', async () => {
    const expectCode = async (body: unknown, code: string) => {
      const response = await consent('t-bad', body);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().error.code).toBe(code);
    };
    const good = tcString({ purposeConsents: [2], lastUpdated: '2024-01-01T00:00:00Z' });
    await expectCode({ tcString: 'hello' }, 'TCF_STRING_INVALID');
    await expectCode({ tcString: good.slice(0, 20) }, 'TCF_STRING_INVALID');
    await expectCode({ tcString: 'C!!!' }, 'TCF_STRING_INVALID');
    await expectCode({ tcString: TCF_V1_STRING }, 'TCF_VERSION_UNSUPPORTED');
    await expectCode(
      { tcString: tcString({ purposeConsents: [2], lastUpdated: '2024-01-01T00:00:00Z', policyVersion: 2 }) },
      'TCF_VERSION_UNSUPPORTED',
    );
    await expectCode(
      { tcString: tcString({ purposeConsents: [2], lastUpdated: '2100-01-01T00:00:00Z' }) },
      'INVALID_TIME',
    );
    // A good string does not excuse a bad explicit purpose: the whole request is refused.
    await expectCode({ tcString: good, purposes: { 'marketing.nope': true } }, 'CONSENT_PURPOSE_UNKNOWN');
    await expectCode({ tcString: '' }, 'VALIDATION_FAILED');
    await expectCode({ tcString: 'C'.repeat(10_001) }, 'VALIDATION_FAILED');
    await expectCode({}, 'CONSENT_EMPTY');
    expect(await history('t-bad')).toEqual([]);
  });

  it.skipIf(missing)('imports TC strings from NDJSON and CSV, rejecting bad ones by line', async () => {
    const granted = tcString({ purposeConsents: [2, 3, 4], lastUpdated: '2024-01-01T00:00:00Z' });
    const ndjson = [
      JSON.stringify({ subject: 't-4', tcString: granted }),
      JSON.stringify({ subject: 't-5', tcString: TCF_V1_STRING }),
      JSON.stringify({ subject: 't-5', tcString: 'hello' }),
      JSON.stringify({ subject: 't-5', tcString: granted, purposes: { research: true } }),
    ].join('\n');
    const response = await call('POST', '/v1/consent/import', ndjson, 'application/x-ndjson');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ recorded: 16, subjects: 2 });
    expect(response.json().rejected.map((r: { line: number; code: string }) => [r.line, r.code])).toEqual([
      [2, 'TCF_VERSION_UNSUPPORTED'],
      [3, 'TCF_STRING_INVALID'],
    ]);
    const t5 = (await call('GET', '/v1/subjects/t-5/consent')).json();
    expect(t5.purposes['research'].granted).toBe(true);
    expect(t5.purposes['marketing.profiling'].granted).toBe(true);

    const withdrawn = tcString({ purposeConsents: [2], lastUpdated: '2024-03-01T00:00:00Z' });
    const csv = [
      'subject,purpose,granted,tc_string,source',
      `t-6,,,${granted},cmp-export`,
      `t-6,marketing.email,true,${withdrawn},cmp-export`,
      't-6,,,,cmp-export',
      `t-6,,true,${withdrawn},cmp-export`,
      't-7,,,hello,cmp-export',
    ].join('\n');
    const imported = await call('POST', '/v1/consent/import', csv, 'text/csv');
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({ recorded: 17, subjects: 1 });
    expect(
      imported
        .json()
        .rejected.map((r: { line: number; code: string; column?: string }) => [r.line, r.code, r.column]),
    ).toEqual([
      [4, 'CONSENT_EMPTY', 'purpose'],
      [5, 'INVALID_CONSENT', 'purpose'],
      [6, 'TCF_STRING_INVALID', undefined],
    ]);
    const t6 = (await call('GET', '/v1/subjects/t-6/consent')).json();
    expect(t6.purposes['marketing.profiling']).toMatchObject({
      granted: false,
      withdrawnAt: day('2024-03-01'),
    });
    expect(t6.purposes['marketing.email'].granted).toBe(true);
    // The string decides method and source of what it proves; the CSV's source is for the rest.
    const emailEntry = t6.history.find((entry: { purpose: string }) => entry.purpose === 'marketing.email');
    expect(emailEntry).toMatchObject({ source: 'cmp-export' });
    expect(emailEntry).not.toHaveProperty('tcString');
    const profiling = t6.history.filter(
      (entry: { purpose: string }) => entry.purpose === 'marketing.profiling',
    );
    expect(profiling.map((entry: { tcString: string }) => entry.tcString)).toEqual([granted, withdrawn]);
  });
});
