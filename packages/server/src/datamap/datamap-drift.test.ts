import { describe, expect, it } from 'vitest';
import type { DataMapSnapshot, MapSystem, Observation, UsageLink } from './datamap.js';
import { findDrift } from './datamap-drift.js';
import { Taxonomy } from '../lib/taxonomy.js';

const categories = Taxonomy.dataCategories();
const T0 = Date.UTC(2025, 0, 1);

function system(name: string, fields: Record<string, string[]> = {}): MapSystem {
  return {
    name,
    team: 'team',
    thirdParty: false,
    fields: Object.entries(fields).map(([field, keys]) => ({ field, categories: keys })),
  };
}

function observation(partial: Partial<Observation> & Pick<Observation, 'kind'>): Observation {
  return {
    source: 'prom',
    team: 'team',
    system: '',
    target: '',
    dataType: partial.category ?? '',
    protocol: '',
    category: '',
    firstSeenAt: T0 - 1000,
    lastSeenAt: T0,
    stale: false,
    ...partial,
  };
}

function link(system: string, field: string, policy: string, lastUseAt: number, count = 1): UsageLink {
  return { system, field, policy, firstUseAt: lastUseAt - 10, lastUseAt, count };
}

function snapshot(partial: Partial<DataMapSnapshot>): DataMapSnapshot {
  return { teams: [], systems: [], flows: [], clients: [], observations: [], ...partial };
}

const declared = (): DataMapSnapshot =>
  snapshot({
    systems: [
      system('api', { 'users.email': ['user.contact.email'], 'users.name': ['user.name'] }),
      system('crm', { 'contacts.all': ['user.contact'] }),
      system('mailer'),
    ],
    flows: [
      { from: 'api', to: 'crm', categories: ['user.contact'] },
      { from: 'crm', to: 'mailer', categories: ['user.contact.email'] },
      { from: 'api', to: 'mailer', categories: ['user.name'] },
    ],
  });

describe('findDrift', () => {
  it('reports uses of fields other systems declared, or none did, aggregated per system and field', () => {
    const drift = findDrift(
      declared(),
      [
        link('api', 'users.email', 'billing', T0), // its own field: fine
        link('mailer', 'users.email', 'marketing', T0 + 5, 2),
        link('mailer', 'users.email', 'billing', T0 + 1, 3),
        link('crm', 'orders.total', 'billing', T0),
        link('crm', 'users.name', 'support', T0),
      ],
      categories,
    );
    expect(drift.undeclaredUses).toEqual([
      { system: 'crm', field: 'orders.total', policies: ['billing'], lastUseAt: T0, count: 1 },
      { system: 'crm', field: 'users.name', owner: 'api', policies: ['support'], lastUseAt: T0, count: 1 },
      {
        system: 'mailer',
        field: 'users.email',
        owner: 'api',
        policies: ['billing', 'marketing'],
        lastUseAt: T0 + 5,
        count: 5,
      },
    ]);
  });

  it('does not report unobserved flows before any discovery source has reported', () => {
    const drift = findDrift(declared(), [], categories);
    expect(drift).toEqual({
      observing: false,
      undeclaredUses: [],
      unobservedFlows: [],
      undeclaredFlows: [],
      undeclaredCategories: [],
      undeclaredStores: [],
      unknownSystems: [],
    });
  });

  it('compares observed flows with declared ones, ignoring stale observations', () => {
    const drift = findDrift(
      {
        ...declared(),
        observations: [
          // Declared user.contact covers user.contact.email.
          observation({ kind: 'transmit', system: 'api', target: 'crm', category: 'user.contact.email' }),
          // crm → mailer carries more than declared.
          observation({ kind: 'transmit', system: 'crm', target: 'mailer', category: 'user.contact.email' }),
          observation({
            kind: 'transmit',
            system: 'crm',
            target: 'mailer',
            category: 'user.name',
            source: 'b',
            lastSeenAt: T0 + 9,
          }),
          // api → mailer only seen stale: unobserved.
          observation({
            kind: 'transmit',
            system: 'api',
            target: 'mailer',
            category: 'user.name',
            stale: true,
            lastSeenAt: T0 - 99,
          }),
          // Not declared.
          observation({
            kind: 'transmit',
            system: 'mailer',
            target: 'sendgrid',
            category: 'user.contact.email',
          }),
          observation({
            kind: 'transmit',
            system: 'mailer',
            target: 'sendgrid',
            category: 'cust_mail',
            source: 'b',
          }),
          observation({
            kind: 'transmit',
            system: 'mailer',
            target: 'old',
            category: 'user.name',
            stale: true,
          }),
        ],
      },
      [],
      categories,
    );
    expect(drift.observing).toBe(true);
    expect(drift.unobservedFlows).toEqual([
      { from: 'api', to: 'mailer', categories: ['user.name'], sources: ['prom'], lastSeenAt: T0 - 99 },
    ]);
    expect(drift.undeclaredFlows).toEqual([
      {
        from: 'mailer',
        to: 'sendgrid',
        categories: ['cust_mail', 'user.contact.email'],
        sources: ['b', 'prom'],
        lastSeenAt: T0,
      },
    ]);
    expect(drift.undeclaredCategories).toEqual([
      {
        from: 'crm',
        to: 'mailer',
        categories: ['user.name'],
        declaredCategories: ['user.contact.email'],
        sources: ['b', 'prom'],
        lastSeenAt: T0 + 9,
      },
    ]);
    expect(drift.unknownSystems).toEqual([
      { name: 'sendgrid', teams: [], sources: ['b', 'prom'], lastSeenAt: T0 },
    ]);
  });

  it('counts a declared flow never seen as unobserved, with no sources', () => {
    const drift = findDrift(
      {
        ...declared(),
        observations: [observation({ kind: 'store', system: 'api', category: 'user.name', stale: true })],
      },
      [],
      categories,
    );
    expect(drift.unobservedFlows.map((flow) => `${flow.from}>${flow.to}`)).toEqual([
      'api>crm',
      'api>mailer',
      'crm>mailer',
    ]);
    expect(drift.unobservedFlows[0]).toEqual({
      from: 'api',
      to: 'crm',
      categories: ['user.contact'],
      sources: [],
    });
    expect(drift.undeclaredStores).toEqual([]); // stale
  });

  it('reports stores no declared field covers, and systems nobody declared', () => {
    const drift = findDrift(
      {
        ...declared(),
        observations: [
          observation({ kind: 'store', system: 'crm', category: 'user.contact.phone_number' }), // covered by user.contact
          observation({ kind: 'store', system: 'api', category: 'user.contact' }), // api declares only the child
          observation({ kind: 'store', system: 'api', category: 'user.name', source: 'b' }),
          observation({
            kind: 'store',
            system: 'tracker',
            team: 'growth',
            category: 'clicks',
            lastSeenAt: T0 + 3,
          }),
          observation({ kind: 'store', system: 'tracker', team: 'ads', category: 'clicks', source: 'b' }),
          observation({ kind: 'client', target: 'https://rights', protocol: 'http' }),
        ],
      },
      [],
      categories,
    );
    expect(drift.undeclaredStores).toEqual([
      {
        system: 'api',
        category: 'user.contact',
        systemDeclared: true,
        unknownCategory: false,
        sources: ['prom'],
        lastSeenAt: T0,
      },
      {
        system: 'tracker',
        category: 'clicks',
        systemDeclared: false,
        unknownCategory: true,
        sources: ['b', 'prom'],
        lastSeenAt: T0 + 3,
      },
    ]);
    expect(drift.unknownSystems).toEqual([
      { name: 'tracker', teams: ['ads', 'growth'], sources: ['b', 'prom'], lastSeenAt: T0 + 3 },
    ]);
  });
});
