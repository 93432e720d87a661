import type { Organisation, RopaReport, RopaRow } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import type { DataMapSnapshot, MapSystem, UsageLink } from './datamap.js';
import {
  EEA_COUNTRIES,
  ROPA_CSV_HEADER,
  buildRopa,
  isEeaCountry,
  ropaCsv,
  type RopaInput,
  type RopaPolicy,
} from './ropa.js';
import { Taxonomy } from '../lib/taxonomy.js';

const NOW = Date.parse('2024-06-01T12:00:00Z');
const UPDATED = Date.parse('2024-05-02T08:30:00Z');

const organisation: Organisation = {
  controller: { name: 'Acme GmbH', email: 'privacy@acme.example', address: 'Hauptstr. 1, Berlin' },
  dpo: { name: 'Dana Protect', email: 'dpo@acme.example' },
  securityMeasures: ['Encryption at rest', 'Access control with MFA'],
};

function system(partial: Partial<MapSystem> & Pick<MapSystem, 'name' | 'team'>): MapSystem {
  return { thirdParty: false, fields: [], ...partial };
}

const snapshot: DataMapSnapshot = {
  teams: [{ name: 'web' }, { name: 'payments' }, { name: 'sales' }, { name: 'data' }],
  systems: [
    system({
      name: 'shop',
      team: 'web',
      country: 'DE',
      fields: [
        { field: 'customers.email', categories: ['user.contact.email'] },
        { field: 'customers.name', categories: ['user.name'] },
        { field: 'customers.notes', categories: [] },
        { field: 'orders.card', categories: ['user.financial.credit_card'] },
      ],
    }),
    system({
      name: 'billing',
      team: 'payments',
      country: 'DE',
      fields: [{ field: 'invoices.amount', categories: ['user.financial.transaction'] }],
    }),
    system({ name: 'crm', team: 'sales', country: 'IE' }),
    system({
      name: 'warehouse',
      team: 'data',
      country: 'US',
      fields: [{ field: 'health.notes', categories: ['user.health.medical_record'] }],
    }),
    system({ name: 'stripe', team: 'payments', thirdParty: true, country: 'US', safeguards: 'SCC 2021/914' }),
    system({ name: 'mailchimp', team: 'web', thirdParty: true, country: 'US' }),
    system({ name: 'printer', team: 'web', thirdParty: true }),
  ],
  flows: [
    { from: 'shop', to: 'stripe', categories: ['user.financial'] },
    { from: 'shop', to: 'billing', categories: ['user.financial.credit_card'] },
    { from: 'shop', to: 'mailchimp', categories: ['user.contact'] },
    { from: 'shop', to: 'crm', categories: ['user.contact.email'] },
    { from: 'shop', to: 'metrics', categories: ['system.operations'] },
    { from: 'billing', to: 'ledger', categories: ['user.financial.transaction'] },
  ],
  clients: [],
  observations: [],
};

function link(system: string, field: string, policy: string): UsageLink {
  return { system, field, policy, firstUseAt: NOW - 10_000, lastUseAt: NOW - 1_000, count: 3 };
}

const usageLinks: UsageLink[] = [
  link('shop', 'orders.card', 'payments'),
  link('billing', 'invoices.amount', 'payments'),
  link('stripe', 'orders.card', 'payments'),
  link('shop', 'customers.email', 'newsletter'),
  link('shop', 'customers.name', 'newsletter'),
  link('warehouse', 'health.notes', 'care'),
  link('warehouse', 'legacy.blob', 'care'),
  link('shop', 'customers.notes', 'care'),
];

const policies: RopaPolicy[] = [
  {
    name: 'payments',
    purpose: 'essential.payment',
    retention: 'P10Y',
    legalBasis: 'legal_obligation',
    description: 'Charge customers for orders',
    dataSubjects: ['customers'],
    reviewedOn: '2024-03-01',
    status: 'active',
    updatedAt: UPDATED,
  },
  {
    name: 'newsletter',
    purpose: 'marketing.email',
    retention: 'P2Y',
    legalBasis: 'consent',
    status: 'active',
    updatedAt: UPDATED,
  },
  {
    name: 'care',
    purpose: 'essential.service.support',
    retention: 'P1Y',
    legalBasis: 'contract',
    dataSubjects: ['patients'],
    status: 'retired',
    updatedAt: UPDATED,
  },
  {
    name: 'old-promo',
    purpose: 'marketing',
    retention: 'P1M',
    legalBasis: 'consent',
    status: 'retired',
    updatedAt: UPDATED,
  },
  {
    name: 'support',
    purpose: 'helpdesk.custom',
    retention: 'P6M',
    legalBasis: 'contract',
    description: 'Answer tickets',
    dataSubjects: ['customers', 'prospects'],
    status: 'active',
    updatedAt: UPDATED,
  },
];

function input(overrides: Partial<RopaInput> = {}): RopaInput {
  return {
    organisation,
    policies,
    snapshot,
    usageLinks,
    categories: Taxonomy.dataCategories(),
    purposes: Taxonomy.purposes(),
    now: NOW,
    ...overrides,
  };
}

function row(report: RopaReport, policy: string): RopaRow {
  const found = report.rows.find((candidate) => candidate.policy === policy);
  if (!found) throw new Error(`no row for ${policy}`);
  return found;
}

function gapsOf(report: RopaReport, policy: string | undefined): { column: string; problem: string }[] {
  return report.gaps
    .filter((gap) => gap.policy === policy)
    .map(({ column, problem }) => ({ column, problem }));
}

describe('EEA countries', () => {
  it('holds the EU 27 and Iceland, Liechtenstein, Norway', () => {
    expect(EEA_COUNTRIES.size).toBe(30);
    expect(isEeaCountry('DE')).toBe(true);
    expect(isEeaCountry('no')).toBe(true);
    expect(isEeaCountry('CH')).toBe(false);
    expect(isEeaCountry('GB')).toBe(false);
    expect(isEeaCountry('US')).toBe(false);
  });
});

describe('buildRopa', () => {
  const report = buildRopa(input());

  it('states the controller, DPO and security measures of the organisation', () => {
    expect(report.generatedAt).toBe('2024-06-01T12:00:00.000Z');
    expect(report.controller).toEqual(organisation.controller);
    expect(report.jointControllers).toEqual([]);
    expect(report.representative).toBeUndefined();
    expect(report.dpo).toEqual(organisation.dpo);
    expect(report.securityMeasures).toEqual(['Encryption at rest', 'Access control with MFA']);
    expect(gapsOf(report, undefined)).toEqual([]);
  });

  it('has a row per active policy and per retired policy still in use, sorted by name', () => {
    expect(report.rows.map((r) => [r.policy, r.status])).toEqual([
      ['care', 'retired'],
      ['newsletter', 'active'],
      ['payments', 'active'],
      ['support', 'active'],
    ]);
  });

  it('derives a complete row from policy, data map and telemetry', () => {
    expect(row(report, 'payments')).toEqual({
      policy: 'payments',
      status: 'active',
      purpose: 'essential.payment',
      purposeDescription: 'Take payments and refunds.',
      description: 'Charge customers for orders',
      legalBasis: 'legal_obligation',
      retention: 'P10Y',
      dataSubjects: ['customers'],
      personalDataCategories: ['user.financial.credit_card', 'user.financial.transaction'],
      specialCategories: [],
      processingSystems: ['billing', 'shop', 'stripe'],
      // billing processes under the policy itself (internal): not a recipient; billing → ledger is
      // a flow from a processing system, to an undeclared system.
      recipients: [
        { system: 'ledger', team: '', thirdParty: false, categories: ['user.financial.transaction'] },
        {
          system: 'stripe',
          team: 'payments',
          thirdParty: true,
          country: 'US',
          categories: ['user.financial.credit_card'],
        },
      ],
      recipientCategories: ['third party: stripe (US)', 'undeclared: ledger'],
      transfers: [{ system: 'stripe', country: 'US', safeguards: 'SCC 2021/914' }],
      erasureTimeLimits: [
        { category: 'user.financial.credit_card', retention: 'P10Y' },
        { category: 'user.financial.transaction', retention: 'P10Y' },
      ],
      securityMeasures: ['Encryption at rest', 'Access control with MFA'],
      reviewedOn: '2024-03-01',
      lastChangedAt: '2024-05-02T08:30:00.000Z',
    });
    expect(gapsOf(report, 'payments')).toEqual([
      {
        column: 'recipients (d)',
        problem: 'recipient "ledger" is not a declared system; who runs it and where is unknown',
      },
    ]);
  });

  it('finds recipients over flows whose categories cover what the sender used, and flags transfers without safeguards', () => {
    const newsletter = row(report, 'newsletter');
    expect(newsletter.purposeDescription).toBe('Newsletters and promotional email.');
    expect(newsletter.personalDataCategories).toEqual(['user.contact.email', 'user.name']);
    expect(newsletter.processingSystems).toEqual(['shop']);
    // shop → stripe carries user.financial: nothing shop uses for the newsletter; shop → metrics neither.
    expect(newsletter.recipients).toEqual([
      { system: 'crm', team: 'sales', thirdParty: false, country: 'IE', categories: ['user.contact.email'] },
      {
        system: 'mailchimp',
        team: 'web',
        thirdParty: true,
        country: 'US',
        categories: ['user.contact.email'],
      },
    ]);
    expect(newsletter.recipientCategories).toEqual(['internal: team sales', 'third party: mailchimp (US)']);
    expect(newsletter.transfers).toEqual([{ system: 'mailchimp', country: 'US' }]);
    expect(newsletter.dataSubjects).toEqual([]);
    expect(newsletter.reviewedOn).toBeUndefined();
    expect(gapsOf(report, 'newsletter')).toEqual([
      { column: 'data subjects (c)', problem: 'no categories of data subjects declared' },
      {
        column: 'third-country transfers (e)',
        problem: '"mailchimp" processes data in US, outside the EEA, without a declared safeguard (Art. 46)',
      },
    ]);
  });

  it('flags special categories, undeclared and uncategorised fields, and internal processing outside the EEA', () => {
    const care = row(report, 'care');
    expect(care.status).toBe('retired');
    expect(care.personalDataCategories).toEqual(['user.health.medical_record']);
    expect(care.specialCategories).toEqual(['user.health.medical_record']);
    expect(care.processingSystems).toEqual(['shop', 'warehouse']);
    expect(care.recipients).toEqual([]);
    expect(care.transfers).toEqual([{ system: 'warehouse', country: 'US' }]);
    expect(gapsOf(report, 'care')).toEqual([
      {
        column: 'personal data (c)',
        problem: 'fields used but declared by no system, categories unknown: legacy.blob',
      },
      { column: 'personal data (c)', problem: 'fields used without data categories: customers.notes' },
      {
        column: 'third-country transfers (e)',
        problem: '"warehouse" processes data in US, outside the EEA, without a declared safeguard (Art. 46)',
      },
    ]);
  });

  it('keeps a policy without telemetry as a row with a gap, and falls back to the policy description', () => {
    const support = row(report, 'support');
    expect(support.purposeDescription).toBe('Answer tickets');
    expect(support.personalDataCategories).toEqual([]);
    expect(support.processingSystems).toEqual([]);
    expect(support.recipients).toEqual([]);
    expect(support.erasureTimeLimits).toEqual([]);
    expect(support.dataSubjects).toEqual(['customers', 'prospects']);
    expect(gapsOf(report, 'support')).toEqual([
      { column: 'personal data (c)', problem: 'no usage recorded; categories unknown' },
    ]);
  });

  it('lists a recipient with the narrower category when the flow is finer than the field', () => {
    const coarse = buildRopa(
      input({
        policies: [{ ...policies[1]!, dataSubjects: ['subscribers'] }],
        snapshot: {
          ...snapshot,
          systems: [
            system({
              name: 'shop',
              team: 'web',
              fields: [{ field: 'customers.contact', categories: ['user.contact'] }],
            }),
            system({ name: 'crm', team: 'sales' }),
            system({ name: 'printer', team: 'ops', thirdParty: true }),
          ],
          flows: [
            { from: 'shop', to: 'crm', categories: ['user.contact.email'] },
            { from: 'shop', to: 'printer', categories: ['user.contact.address'] },
          ],
        },
        usageLinks: [link('shop', 'customers.contact', 'newsletter')],
      }),
    );
    const [only] = coarse.rows;
    expect(only?.recipients).toEqual([
      { system: 'crm', team: 'sales', thirdParty: false, categories: ['user.contact.email'] },
      { system: 'printer', team: 'ops', thirdParty: true, categories: ['user.contact.address'] },
    ]);
    expect(only?.recipientCategories).toEqual(['internal: team sales', 'third party: printer']);
    expect(gapsOf(coarse, 'newsletter')).toEqual([
      {
        column: 'third-country transfers (e)',
        problem: 'third party "printer" has no country declared; whether data leaves the EEA is unknown',
      },
    ]);
  });

  it('reports missing organisation details as gaps instead of failing', () => {
    const bare = buildRopa(input({ organisation: undefined }));
    expect(bare.controller).toBeUndefined();
    expect(bare.dpo).toBeUndefined();
    expect(bare.jointControllers).toEqual([]);
    expect(bare.securityMeasures).toEqual([]);
    expect(bare.rows).toHaveLength(4);
    expect(row(bare, 'payments').securityMeasures).toEqual([]);
    expect(gapsOf(bare, undefined)).toEqual([
      {
        column: 'controller (a)',
        problem: 'no organisation recorded: the name and contact details of the controller are missing',
      },
      {
        column: 'security measures (g)',
        problem: 'no technical and organisational security measures recorded (Art. 32)',
      },
    ]);

    const nameOnly = buildRopa(input({ organisation: { controller: { name: 'Acme GmbH' } } }));
    expect(gapsOf(nameOnly, undefined).map((gap) => gap.column)).toEqual([
      'controller (a)',
      'security measures (g)',
    ]);
    expect(gapsOf(nameOnly, undefined)[0]?.problem).toContain('no contact details');
  });

  it('flags a purpose outside the taxonomy without a description, and an undeclared processing system', () => {
    const odd = buildRopa(
      input({
        policies: [{ ...policies[4]!, description: undefined }],
        usageLinks: [link('ghost', 'customers.email', 'support')],
      }),
    );
    const [only] = odd.rows;
    expect(only?.purposeDescription).toBeUndefined();
    expect(only?.processingSystems).toEqual(['ghost']);
    expect(only?.personalDataCategories).toEqual(['user.contact.email']);
    expect(gapsOf(odd, 'support').map((gap) => gap.column)).toEqual(['purposes (b)', 'recipients (d)']);
  });
});

describe('ropaCsv', () => {
  const report = buildRopa(input());
  const csv = ropaCsv(report);
  const lines = csv.split('\r\n');

  it('writes the header named after the Art. 30 letters, then one CRLF-ended line per row', () => {
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(lines).toHaveLength(report.rows.length + 2);
    expect(lines[0]).toBe(ROPA_CSV_HEADER.join(','));
    expect(ROPA_CSV_HEADER).toEqual(
      expect.arrayContaining([
        'controller (a)',
        'purposes (b)',
        'data subjects (c)',
        'personal data (c)',
        'recipients (d)',
        'third-country transfers (e)',
        'erasure time limits (f)',
        'security measures (g)',
        'legal basis',
        'reviewed on',
      ]),
    );
  });

  function cells(policy: string): Record<string, string> {
    const index = report.rows.findIndex((r) => r.policy === policy);
    const line = lines[index + 1] ?? '';
    // The test data holds no quotes or line breaks, so splitting on commas outside quotes is enough.
    const values = [...line.matchAll(/("([^"]*)"|[^,]*)(,|$)/g)]
      .slice(0, ROPA_CSV_HEADER.length)
      .map((match) => match[2] ?? match[1] ?? '');
    return Object.fromEntries(ROPA_CSV_HEADER.map((name, i) => [name, values[i] ?? '']));
  }

  it('fills the columns, lists joined with "; "', () => {
    expect(cells('payments')).toEqual({
      policy: 'payments',
      status: 'active',
      'controller (a)': 'Acme GmbH, privacy@acme.example, Hauptstr. 1, Berlin',
      'joint controllers (a)': '',
      'representative (a)': '',
      'data protection officer (a)': 'Dana Protect, dpo@acme.example',
      'purposes (b)': 'essential.payment: Take payments and refunds.',
      description: 'Charge customers for orders',
      'data subjects (c)': 'customers',
      'personal data (c)': 'user.financial.credit_card; user.financial.transaction',
      'recipients (d)': 'third party: stripe (US); undeclared: ledger',
      'third-country transfers (e)': 'stripe: US, SCC 2021/914',
      'erasure time limits (f)': 'user.financial.credit_card: P10Y; user.financial.transaction: P10Y',
      'security measures (g)': 'Encryption at rest; Access control with MFA',
      'legal basis': 'legal_obligation',
      retention: 'P10Y',
      'reviewed on': '2024-03-01',
      'last changed': '2024-05-02T08:30:00.000Z',
    });
    expect(cells('care')['personal data (c)']).toBe('user.health.medical_record (Art. 9)');
    expect(cells('care')['third-country transfers (e)']).toBe('warehouse: US, no safeguards');
    expect(cells('support')['erasure time limits (f)']).toBe('P6M');
  });

  it('escapes and guards values people typed', () => {
    const hostile = buildRopa(
      input({
        organisation: { controller: { name: '=HYPERLINK("http://evil.example")', email: 'a@b.example' } },
        policies: [{ ...policies[4]!, description: 'Tickets, "urgent"\nand not' }],
      }),
    );
    const text = ropaCsv(hostile);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example""), a@b.example"`);
    expect(text).toContain('"Tickets, ""urgent""\nand not"');
    expect(text.split('\r\n')).toHaveLength(3);
  });

  it('writes only the header for an empty record', () => {
    expect(ropaCsv(buildRopa(input({ policies: [] })))).toBe(`${ROPA_CSV_HEADER.join(',')}\r\n`);
  });
});
