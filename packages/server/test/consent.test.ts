import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';

const available = await availableBackends();
const day = (iso: string) => `${iso}T00:00:00.000Z`;

/**
 * Consent and its effect on retention (docs/consent.md), through HTTP on every backend:
 * `send-marketing-email` (purpose marketing.email, P6M) is the consent-based policy of the fixtures.
 */
describe.each(ALL_BACKENDS)('consent: $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  const tokens: Record<'admin' | 'auditor' | 'auditorWithIds' | 'service', string> = {
    admin: '',
    auditor: '',
    auditorWithIds: '',
    service: '',
  };

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    lethe = await createLethe({ ...location, rateLimit: false });
    dispose = location.dispose;
    const mint = async (request: Parameters<Lethe['tokens']['mint']>[0]) =>
      (await lethe.tokens.mint(request)).token;
    tokens.admin = await mint({ subject: 'consent-admin', role: 'admin', ttlSeconds: 600 });
    tokens.auditor = await mint({ subject: 'consent-auditor', role: 'auditor', ttlSeconds: 600 });
    tokens.auditorWithIds = await mint({
      subject: 'consent-auditor-ids',
      role: 'auditor',
      grants: ['subject-ids'],
      ttlSeconds: 600,
    });
    tokens.service = await mint({
      subject: 'signup-frontend',
      role: 'service',
      system: 'accounts',
      ttlSeconds: 600,
    });
    for (const [name, body] of Object.entries(POLICIES)) await call('PUT', `/v1/policies/${name}`, body);
    for (const [name, body] of Object.entries(SYSTEMS)) await call('PUT', `/v1/systems/${name}`, body);
  });
  afterAll(async () => {
    if (missing) return;
    await lethe.close();
    await dispose();
  });

  function call(
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    payload?: unknown,
    options: { as?: keyof typeof tokens; contentType?: string } = {},
  ) {
    return lethe.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${tokens[options.as ?? 'admin']}`,
        ...(options.contentType ? { 'content-type': options.contentType } : {}),
      },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  const consent = (subject: string, body: unknown, as?: keyof typeof tokens) =>
    call('PUT', `/v1/subjects/${subject}/consent`, body, as ? { as } : {});
  const publish = async (...events: ReturnType<typeof usage>[]) => {
    const response = await call('POST', '/v1/events', { events });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };
  const mail = (subject: string, iso: string) =>
    usage(subject, 'send-marketing-email', ['accounts.email'], `${iso}T00:00:00Z`);
  const view = async (subject: string) => (await call('GET', `/v1/subjects/${subject}`)).json();
  const feedSubjects = async (iso: string) =>
    ((await call('GET', `/v1/expiries?day=${iso}`)).json().items as { subject: string }[]).map(
      (item) => item.subject,
    );

  it.skipIf(missing)(
    'keeps the whole history with its proof; the state follows the latest `at`',
    async () => {
      const first = await consent('h-1', {
        purposes: { 'marketing.email': true, analytics: true },
        notice: 'https://metronome.example/privacy',
        noticeVersion: 'v3',
        source: 'signup-frontend',
        method: 'checkbox',
        channel: 'web',
        url: 'https://metronome.example/signup',
        at: '2024-01-01T00:00:00Z',
      });
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json().recorded).toHaveLength(2);
      expect(first.json().purposes['marketing.email']).toEqual({
        granted: true,
        since: day('2024-01-01'),
        grantedAt: day('2024-01-01'),
      });
      expect(
        (
          await consent('h-1', {
            purposes: { 'marketing.email': false },
            method: 'api',
            at: '2024-03-01T00:00:00Z',
          })
        ).statusCode,
      ).toBe(200);
      // Recorded late, from before the withdrawal: kept in history, does not undo the withdrawal.
      const late = await consent(
        'h-1',
        { purposes: { 'marketing.email': true }, method: 'import', at: '2023-12-01T00:00:00Z' },
        'service',
      );
      expect(late.statusCode, late.body).toBe(200);

      const read = await call('GET', '/v1/subjects/h-1/consent');
      expect(read.statusCode).toBe(200);
      const body = read.json();
      expect(body.purposes['marketing.email']).toEqual({
        granted: false,
        since: day('2024-03-01'),
        grantedAt: day('2023-12-01'),
        withdrawnAt: day('2024-03-01'),
      });
      expect(body.purposes['analytics'].granted).toBe(true);
      const email = body.history.filter((entry: { purpose: string }) => entry.purpose === 'marketing.email');
      expect(email.map((entry: { granted: boolean; at: string }) => [entry.granted, entry.at])).toEqual([
        [true, day('2023-12-01')],
        [true, day('2024-01-01')],
        [false, day('2024-03-01')],
      ]);
      expect(email[1]).toMatchObject({
        notice: 'https://metronome.example/privacy',
        noticeVersion: 'v3',
        source: 'signup-frontend',
        method: 'checkbox',
        channel: 'web',
        url: 'https://metronome.example/signup',
        recordedBy: { id: 'consent-admin', role: 'admin' },
      });
      expect(email[0].recordedBy).toEqual({ id: 'signup-frontend', role: 'service' });

      const audit = (await call('GET', '/v1/audit?limit=1000')).json();
      const actions = audit.items
        .filter((entry: { target: string }) => entry.target === 'subject:h-1')
        .map((entry: { action: string }) => entry.action);
      expect(actions.filter((action: string) => action === 'consent.record')).toHaveLength(3);
      expect(actions).toContain('consent.read');
    },
  );

  it.skipIf(missing)('answers an empty state for a subject with no consent recorded', async () => {
    const read = await call('GET', '/v1/subjects/nobody/consent');
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual({ subject: 'nobody', purposes: {}, history: [] });
  });

  it.skipIf(missing)(
    'withdrawal moves the expiry to the withdrawal day; a use without consent is accepted, listed and extends nothing; re-grant counts again',
    async () => {
      await consent('w-1', { purposes: { 'marketing.email': true }, at: '2024-01-01T00:00:00Z' });
      await publish(
        usage('w-1', 'order-delivery', ['accounts.email'], '2024-01-10T00:00:00Z', 'orders'),
        mail('w-1', '2024-03-01'),
      );
      let subject = await view('w-1');
      expect(subject.expiresAt).toBe(day('2024-09-01'));
      expect(subject.decidedBy).toEqual({
        field: 'accounts.email',
        policy: 'send-marketing-email',
        system: 'mailer',
      });
      expect(subject.consent['marketing.email'].granted).toBe(true);
      expect(await feedSubjects('2024-09-01')).toContain('w-1');

      const withdrawal = await consent('w-1', {
        purposes: { 'marketing.email': false },
        at: '2024-06-15T00:00:00Z',
      });
      expect(withdrawal.json().recomputed).toBe(1);
      subject = await view('w-1');
      expect(subject.expiresAt).toBe(day('2024-06-15'));
      expect(subject.fields[0].policy).toBe('send-marketing-email');
      const uses = subject.fields[0].uses.map((use: { policy: string; keepsUntil: string }) => [
        use.policy,
        use.keepsUntil,
      ]);
      expect(uses).toEqual([
        ['order-delivery', day('2024-05-09')],
        ['send-marketing-email', day('2024-06-15')],
      ]);
      expect(await feedSubjects('2024-06-15')).toContain('w-1');
      expect(await feedSubjects('2024-09-01')).not.toContain('w-1');

      // Without consent: accepted, flagged, and extends nothing: the withdrawal still decides.
      expect(await publish(mail('w-1', '2024-07-01'))).toMatchObject({ accepted: 1, rejected: [] });
      subject = await view('w-1');
      expect(subject.expiresAt).toBe(day('2024-06-15'));
      expect(await feedSubjects('2024-06-15')).toContain('w-1');
      expect(await feedSubjects('2024-07-01')).not.toContain('w-1');
      const violations = (await call('GET', '/v1/consent/violations?subject=w-1')).json();
      expect(violations.items).toEqual([
        {
          subject: 'w-1',
          policy: 'send-marketing-email',
          system: 'mailer',
          purpose: 'marketing.email',
          firstAt: day('2024-07-01'),
          lastAt: day('2024-07-01'),
          count: 1,
        },
      ]);

      // Re-grant: the use made while consent stood before counts again, and so do new ones.
      await consent('w-1', { purposes: { 'marketing.email': true }, at: '2024-08-01T00:00:00Z' });
      expect((await view('w-1')).expiresAt).toBe(day('2024-09-01'));
      await publish(mail('w-1', '2024-08-15'));
      expect((await view('w-1')).expiresAt).toBe(day('2025-02-15'));
      const after = (await call('GET', '/v1/consent/violations?subject=w-1')).json();
      expect(after.items[0].count).toBe(1);
    },
  );

  it.skipIf(missing)('counts a use as consented once consent dated before it is recorded', async () => {
    await publish(mail('l-1', '2024-03-01'));
    expect((await view('l-1')).expiresAt).toBe(day('2024-03-01'));
    await consent('l-1', { purposes: { 'marketing.email': true }, at: '2024-02-01T00:00:00Z' });
    const subject = await view('l-1');
    expect(subject.expiresAt).toBe(day('2024-09-01'));
    expect(subject.fields[0].uses[0].lastConsentedUseAt).toBe(day('2024-03-01'));
    // The violation stays on record: at ingest, nothing showed consent.
    expect((await call('GET', '/v1/consent/violations?subject=l-1')).json().items).toHaveLength(1);
  });

  it.skipIf(missing)('refuses bad input with stable codes', async () => {
    const expectCode = async (body: unknown, status: number, code: string) => {
      const response = await consent('bad-1', body);
      expect(response.statusCode, response.body).toBe(status);
      expect(response.json().error.code).toBe(code);
    };
    await expectCode({ purposes: { 'marketing.emails': true } }, 400, 'CONSENT_PURPOSE_UNKNOWN');
    await expectCode({ purposes: {} }, 400, 'CONSENT_EMPTY');
    await expectCode({ purposes: { 'marketing.email': 'yes' } }, 400, 'VALIDATION_FAILED');
    await expectCode({ purposes: { 'marketing.email': true }, extra: 1 }, 400, 'VALIDATION_FAILED');
    await expectCode(
      { purposes: { 'marketing.email': true }, at: '2999-01-01T00:00:00Z' },
      400,
      'INVALID_TIME',
    );
    await expectCode({ purposes: { 'marketing.email': true }, at: 'yesterday' }, 400, 'INVALID_TIME');
    // Nothing of the refused requests was recorded.
    expect((await call('GET', '/v1/subjects/bad-1/consent')).json().history).toEqual([]);
    const cursor = await call('GET', '/v1/consent/violations?cursor=forged');
    expect(cursor.json().error.code).toBe('INVALID_CURSOR');
  });

  it.skipIf(missing)('imports NDJSON and CSV, reporting bad lines by number, and recomputes', async () => {
    await publish(mail('i-1', '2024-03-01'));
    const ndjson = [
      '{"subject":"i-1","purposes":{"marketing.email":true},"at":"2024-01-01T00:00:00Z","method":"import","source":"crm-export"}',
      '',
      '{not json',
      '{"subject":"i-2","purposes":{"marketing.nope":true}}',
      '{"subject":"i-2","purposes":{"marketing.email":true},"at":"2999-01-01T00:00:00Z"}',
      '{"subject":"i-2","purposes":{"marketing.email":false},"at":"2024-02-01T00:00:00Z"}',
      '{"purposes":{"marketing.email":true}}',
    ].join('\n');
    const response = await call('POST', '/v1/consent/import', ndjson, {
      contentType: 'application/x-ndjson',
    });
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json();
    expect(result).toMatchObject({ recorded: 2, subjects: 2, recomputed: 1 });
    expect(result.rejected.map((r: { line: number; code: string }) => [r.line, r.code])).toEqual([
      [3, 'INVALID_JSON'],
      [4, 'CONSENT_PURPOSE_UNKNOWN'],
      [5, 'INVALID_TIME'],
      [7, 'INVALID_CONSENT'],
    ]);
    expect((await view('i-1')).expiresAt).toBe(day('2024-09-01'));
    const history = (await call('GET', '/v1/subjects/i-1/consent')).json().history;
    expect(history[0]).toMatchObject({ method: 'import', source: 'crm-export' });

    const csv = [
      'subject,purpose,granted,at,notice_version,method',
      'i-3,marketing.email,yes,2024-01-01T00:00:00Z,v2,web-form',
      'i-3,analytics,maybe,2024-01-01T00:00:00Z,v2,web-form',
      'i-3,marketing.email,withdrawn,2024-04-01T00:00:00Z,v2,web-form',
    ].join('\r\n');
    const imported = await call('POST', '/v1/consent/import', csv, { contentType: 'text/csv' });
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({
      recorded: 2,
      subjects: 1,
      rejected: [{ line: 3, column: 'granted', code: 'INVALID_CONSENT' }],
    });
    const state = (await call('GET', '/v1/subjects/i-3/consent')).json().purposes['marketing.email'];
    expect(state).toEqual({
      granted: false,
      since: day('2024-04-01'),
      grantedAt: day('2024-01-01'),
      withdrawnAt: day('2024-04-01'),
    });
    const badHeader = await call('POST', '/v1/consent/import', 'who,what\nx,y', { contentType: 'text/csv' });
    expect(badHeader.statusCode).toBe(400);
    expect(badHeader.json().error.code).toBe('CSV_INVALID');
  });

  it.skipIf(missing)('imports a file larger than one SQL statement can hold', async () => {
    // 2,500 lines × 2 purposes: 5,000 events, more parameters than SQLite takes in one insert.
    const lines = Array.from({ length: 2_500 }, (_, index) =>
      JSON.stringify({
        subject: `bulk-${index}`,
        purposes: { 'marketing.email': true, analytics: index % 2 === 0 },
        at: '2024-01-01T00:00:00Z',
      }),
    );
    const response = await call('POST', '/v1/consent/import', lines.join('\n'), {
      contentType: 'application/x-ndjson',
    });
    expect(response.statusCode, response.body.slice(0, 300)).toBe(200);
    expect(response.json()).toMatchObject({ recorded: 5_000, subjects: 2_500, rejected: [] });
    const last = (await call('GET', '/v1/subjects/bulk-2499/consent')).json();
    expect(last.purposes).toMatchObject({
      'marketing.email': { granted: true },
      analytics: { granted: false },
    });
  });

  it.skipIf(missing)('pseudonymises violations for an auditor without the subject-ids grant', async () => {
    await publish(mail('p-1', '2024-05-01'));
    const plain = (await call('GET', '/v1/consent/violations', undefined, { as: 'auditor' })).json();
    expect(plain.items.length).toBeGreaterThan(0);
    for (const item of plain.items) expect(item.subject).toMatch(/^~[0-9a-f]{16}$/);
    const filtered = await call('GET', '/v1/consent/violations?subject=p-1', undefined, { as: 'auditor' });
    expect(filtered.json().error.code).toBe('SUBJECT_IDS_NOT_GRANTED');
    const granted = (
      await call('GET', '/v1/consent/violations?subject=p-1', undefined, { as: 'auditorWithIds' })
    ).json();
    expect(granted.items.map((item: { subject: string }) => item.subject)).toEqual(['p-1']);
    // Paging: newest first, one at a time, no item twice.
    const seen: { lastAt: string; key: string }[] = [];
    let next: string | undefined;
    do {
      const page = (
        await call('GET', `/v1/consent/violations?limit=1${next ? `&cursor=${next}` : ''}`)
      ).json();
      for (const item of page.items)
        seen.push({ lastAt: item.lastAt, key: `${item.subject} ${item.system}` });
      next = page.next;
    } while (next);
    const lastAts = seen.map((item) => item.lastAt);
    expect(lastAts).toEqual([...lastAts].sort().reverse());
    expect(seen.length).toBe(plain.items.length);
    expect(new Set(seen.map((item) => item.key)).size).toBe(seen.length);
  });

  it.skipIf(missing)('stores what the rule computes when withdrawals race with ingest', async () => {
    const subjects = Array.from({ length: 8 }, (_, index) => `race-${index}`);
    for (const subject of subjects) {
      await consent(subject, { purposes: { 'marketing.email': true }, at: '2024-01-01T00:00:00Z' });
    }
    const months = ['02', '03', '04', '05', '06', '07', '08', '09', '10', '11'];
    await Promise.all([
      ...months.map((month) => publish(...subjects.map((subject) => mail(subject, `2024-${month}-10`)))),
      ...subjects
        .filter((_, index) => index % 2 === 0)
        .map((subject) =>
          consent(subject, { purposes: { 'marketing.email': false }, at: '2024-06-01T00:00:00Z' }),
        ),
    ]);
    for (const subject of subjects) {
      const stored = await view(subject);
      const [field] = stored.fields;
      const [use] = field.uses;
      // The stored expiry equals the rule applied to the stored usage and consent.
      expect(field.expiresAt, subject).toBe(use.keepsUntil);
      if (stored.consent['marketing.email'].granted) {
        expect(field.expiresAt, subject).toBe(day('2025-05-10'));
      } else {
        // Which uses count as consented depends on whether their batch committed before the
        // (backdated) withdrawal; either way nothing lives past the last use, 2024-11-10.
        expect(field.expiresAt <= day('2024-11-10'), `${subject} ${field.expiresAt}`).toBe(true);
      }
    }
  });

  it.skipIf(missing)(
    'a withdrawal dated before a use counted as consented turns it into a use without consent',
    async () => {
      await consent('late-1', { purposes: { 'marketing.email': true }, at: '2024-01-01T00:00:00Z' });
      await publish(mail('late-1', '2024-09-10')); // consented when it came in
      await consent('late-1', { purposes: { 'marketing.email': false }, at: '2024-06-01T00:00:00Z' });
      // The withdrawal was dated before that use: it is a use without consent, kept until the
      // withdrawal (a use without consent after it extends nothing).
      let stored = await view('late-1');
      expect(stored.fields[0].uses[0].lastConsentedUseAt).toBeUndefined();
      expect(stored.fields[0].expiresAt).toBe(day('2024-06-01'));
      // An older use without consent arriving later neither extends it nor makes it disagree.
      await publish(mail('late-1', '2024-08-10'));
      stored = await view('late-1');
      expect(stored.fields[0].expiresAt).toBe(day('2024-06-01'));
      expect(stored.fields[0].expiresAt).toBe(stored.fields[0].uses[0].keepsUntil);
    },
  );

  it.skipIf(missing)('applies consent when a policy change recomputes, and in its preview', async () => {
    // w-1 ends 2025-02-15 by a consented use on 2024-08-15; h-1 style withdrawn subjects stay cut.
    await consent('r-1', { purposes: { 'marketing.email': true }, at: '2024-01-01T00:00:00Z' });
    await publish(mail('r-1', '2024-03-01'));
    await consent('r-1', { purposes: { 'marketing.email': false }, at: '2024-04-01T00:00:00Z' });
    expect((await view('r-1')).expiresAt).toBe(day('2024-04-01'));
    const preview = (
      await call('POST', '/v1/policies/send-marketing-email/preview', { retention: 'P1Y' })
    ).json();
    expect(preview.subjectFieldsEarlier).toBe(0);
    const put = await call('PUT', '/v1/policies/send-marketing-email', {
      ...POLICIES['send-marketing-email'],
      retention: 'P1Y',
      reason: 'longer campaigns',
    });
    expect(put.statusCode, put.body).toBe(200);
    expect((await view('r-1')).expiresAt).toBe(day('2024-04-01'));
    expect((await view('w-1')).expiresAt).toBe(day('2025-08-15'));
    // No longer consent-based: every use counts again, consent aside.
    await call('PUT', '/v1/policies/send-marketing-email', {
      ...POLICIES['send-marketing-email'],
      retention: 'P1Y',
      legalBasis: 'legitimate_interests',
      reason: 'no longer consent-based',
    });
    expect((await view('r-1')).expiresAt).toBe(day('2025-03-01'));
  });
});
