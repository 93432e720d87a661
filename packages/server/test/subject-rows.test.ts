import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLethe, type Lethe } from '../src/server.js';
import type { Repository } from '../src/store/repository.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { POLICIES, SYSTEMS, usage } from './support/fixtures.js';

/**
 * The subject view's one-statement read (`retention/subject-rows.ts`) returns exactly what the five
 * lookups it replaced return, rows, types and order, on every backend: a subject with several
 * fields, policies, a consent state, erasures and a re-appearance, one with uses only, and one
 * Lethe holds nothing about.
 */
const available = await availableBackends();

/** The five queries the subject view made before. */
async function fiveLookups(repository: Repository, subject: string) {
  const [expiry, fieldRows, usages, consent, erasures] = await Promise.all([
    repository.retention.getSubjectExpiry(subject),
    repository.retention.fieldExpiriesOfSubjects([subject]),
    repository.retention.usagesOfSubjects([subject]),
    repository.consent.statesOfSubjects([subject]),
    repository.retention.erasuresOf(subject),
  ]);
  return { expiry, fieldRows, usages, consent, erasures };
}

describe.each(ALL_BACKENDS)('subject rows in one statement on $name', (backend) => {
  const missing = !available.includes(backend);
  let lethe: Lethe;
  let dispose: () => Promise<void>;
  let token: string;
  const call = async (method: 'PUT' | 'POST', url: string, payload: object) => {
    const response = await lethe.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      payload,
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
  };

  beforeAll(async () => {
    if (missing) return;
    const location = await backend.create({ migrated: true });
    dispose = location.dispose;
    lethe = await createLethe({ ...location, rateLimit: false });
    token = (await lethe.tokens.mint({ subject: 'rows', role: 'admin', ttlSeconds: 600 })).token;
    for (const [name, body] of Object.entries(POLICIES)) await call('PUT', `/v1/policies/${name}`, body);
    for (const [name, body] of Object.entries(SYSTEMS)) await call('PUT', `/v1/systems/${name}`, body);
    await call('PUT', '/v1/subjects/s-full/consent', {
      purposes: { 'marketing.email': true },
      at: '2024-01-01T00:00:00Z',
    });
    await call('POST', '/v1/events', {
      events: [
        usage('s-full', 'user-account-access', ['accounts.email', 'accounts.name'], '2024-01-02T00:00:00Z'),
        usage('s-full', 'send-marketing-email', ['accounts.email'], '2024-01-03T00:00:00Z'),
        usage('s-full', 'order-delivery', ['orders.address'], '2024-01-04T00:00:00Z'),
        usage('s-full', 'user-account-access', ['accounts.email'], '2024-01-05T00:00:00Z'),
        usage('s-uses', 'order-delivery', ['orders.address'], '2024-02-01T00:00:00Z'),
      ],
    });
    await call('PUT', '/v1/subjects/s-full/consent', {
      purposes: { 'marketing.email': false },
      at: '2024-01-06T00:00:00Z',
    });
    await call('POST', '/v1/subjects/s-full/erasures', { system: 'orders', at: '2024-01-08T00:00:00Z' });
    await call('POST', '/v1/subjects/s-full/erasures', {
      system: 'accounts',
      fields: ['accounts.name'],
      at: '2024-01-07T00:00:00Z',
    });
    // Used again after its erasure: a re-appearance.
    await call('POST', '/v1/events', {
      events: [usage('s-full', 'order-delivery', ['orders.address'], '2024-01-09T00:00:00Z')],
    });
    await lethe.services.store.freshAggregates();
  });
  afterAll(async () => {
    if (missing) return;
    await lethe.close();
    await dispose();
  });

  it.skipIf(missing)('matches the five lookups for every kind of subject', async () => {
    const repository = lethe.services.store.repository;
    for (const subject of ['s-full', 's-uses', 's-none']) {
      expect(await repository.retention.subjectRows(subject), subject).toEqual(
        await fiveLookups(repository, subject),
      );
    }
    const full = await repository.retention.subjectRows('s-full');
    // The fixture covers every table and column kind the statement unions.
    expect(full.fieldRows.map((row) => row.field)).toEqual([
      'accounts.email',
      'accounts.name',
      'orders.address',
    ]);
    expect(full.usages).toHaveLength(4);
    expect(full.consent).toEqual([
      expect.objectContaining({
        purpose: 'marketing.email',
        withdrawn_at: Date.parse('2024-01-06T00:00:00Z'),
      }),
    ]);
    expect(full.erasures.map((row) => row.field)).toEqual(['accounts.name', 'orders.address']);
    expect(full.fieldRows.find((row) => row.field === 'orders.address')?.reappeared_at).toEqual(
      expect.any(Number),
    );
  });

  it.skipIf(missing)('reads inside a transaction too (a DSAR snapshot)', async () => {
    const inside = await lethe.services.store.transaction((repository) =>
      repository.retention.subjectRows('s-full'),
    );
    expect(inside).toEqual(await fiveLookups(lethe.services.store.repository, 's-full'));
  });
});
