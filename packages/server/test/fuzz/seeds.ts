import type { Words } from './schema-arbitrary.js';
import { DEMO_MAP, DEMO_POLICIES, DEMO_SUBJECT, DEMO_SYSTEMS } from '../../src/demo/demo-company.js';

/**
 * A valid body per route, written for the demo company: mutated, they reach the code behind the
 * validation, which a body generated from the schema alone rarely does (`events: [{}]`). Names
 * the fuzzer creates start with `fz`; they never rename a demo field into another category.
 */
export const SUBJECTS = [DEMO_SUBJECT, 'u-1002', 'u-2000', 'u-2001', 'u-2150', 'u-2299'];
/** A subject Lethe has never heard of: the twin of a known one in the existence checks. */
export const UNKNOWN_SUBJECT = 'u-404040';
export const STREAM_SUBJECTS = ['customer-1001@example.com', 'customer-1002@example.com'];

const DEMO_FIELDS = Object.values(DEMO_SYSTEMS).flatMap((system) =>
  (system.datasets ?? []).flatMap((dataset) =>
    dataset.fields.map((field) => `${dataset.name}.${field.name}`),
  ),
);
const DEMO_CATEGORIES = [
  ...new Set(
    Object.values(DEMO_SYSTEMS).flatMap((system) =>
      (system.datasets ?? []).flatMap((dataset) => dataset.fields.flatMap((field) => field.categories ?? [])),
    ),
  ),
];
const PURPOSES = ['marketing.email', 'essential.account', 'essential.orders', 'analytics', 'marketing'];

const SYSTEMS = Object.keys(DEMO_SYSTEMS);
const POLICIES = Object.keys(DEMO_POLICIES);
const CATEGORIES = [...DEMO_CATEGORIES, 'user.contact', 'user', 'system'];
export const HELD_SUBJECTS = [...SUBJECTS, ...STREAM_SUBJECTS];

/**
 * Names the server holds, for generated strings (`general`) and for properties and parameters of
 * a given name (`byKey`); `ids` are the rights requests the world made. Subjects, fields and
 * categories appear only under their own keys.
 */
export function wordsOf(ids: readonly string[]): Words {
  const names = [
    ...POLICIES,
    ...SYSTEMS,
    ...DEMO_MAP.teams!.map((team) => team.name),
    ...DEMO_MAP.clients!.map((client) => client.name),
    'page-views',
    'fz-policy',
    'fz-system',
    'fz-team',
    'fz-connector',
    'fz-export',
    'fz-scrape',
  ];
  const subjects = [...HELD_SUBJECTS, UNKNOWN_SUBJECT];
  // Field names and categories only where a field or category belongs: in free text (a team's
  // contact) they would be the fuzzer's own words coming back, not a leak.
  const general = [
    ...names,
    ...PURPOSES,
    ...ids,
    '1',
    '2',
    'P1Y',
    'P30D',
    '2024-06-01T00:00:00Z',
    '2024-06-01',
  ];
  return {
    general,
    byKey: {
      subject: subjects,
      name: names,
      from: SYSTEMS,
      to: SYSTEMS,
      system: SYSTEMS,
      policy: POLICIES,
      team: DEMO_MAP.teams!.map((team) => team.name),
      field: DEMO_FIELDS,
      fields: DEMO_FIELDS,
      category: CATEGORIES,
      categories: CATEGORIES,
      dataType: CATEGORIES,
      purposes: PURPOSES,
      id: ids,
      task: ['1', '2', '3'],
      version: ['1', '2'],
      file: ['index.js', '../index.html', '..%2f..%2fpackage.json', 'favicon.svg'],
      status: ['received', 'verified', 'approved', 'running', 'completed', 'denied', 'cancelled'],
      purposesQuery: PURPOSES,
    },
  };
}

const usage = (id: string, subject = DEMO_SUBJECT) => ({
  id,
  subject,
  system: 'accounts',
  policy: 'user-account-access',
  fields: ['accounts.email', 'accounts.name'],
  at: '2024-06-01T10:00:00Z',
});
const pageView = (id: string) => ({
  id,
  contract: 'page-views@1',
  consent: ['essential', 'marketing.email'],
  at: '2024-06-01T10:00:00Z',
  data: {
    sessionId: 'session-1001',
    customerId: DEMO_SUBJECT,
    email: 'customer-1001@example.com',
    city: 'Lyon',
    url: 'https://shop.example/',
  },
});
const system = {
  team: 'fz-team',
  description: 'made by the fuzzer',
  datasets: [{ name: 'fz_data', fields: [{ name: 'fz_field', categories: ['user.contact.email'] }] }],
};
const policy = { purpose: 'essential.account', retention: 'P1Y', legalBasis: 'contract' };
const connector = {
  type: 'sqlite',
  urlEnv: 'FZ_CONNECTOR_URL',
  system: 'accounts',
  tables: [
    {
      name: 'people',
      primaryKey: ['id'],
      columns: {
        email: ['email'],
        name: { categories: ['user.contact.email'], mask: { strategy: 'fixed', value: 'x' } },
      },
    },
    {
      name: 'orders',
      primaryKey: ['id'],
      columns: { note: { tags: ['compliance/pii'] } },
      links: [{ column: 'person_id', references: 'people.id' }],
      owner: 'subject',
      erase: 'row',
    },
  ],
};
const contract = {
  version: 2,
  schema: {
    type: 'object',
    required: ['session', 'email'],
    properties: { session: { type: 'string' }, email: { type: 'string' }, age: { type: 'number' } },
  },
  keyLink: 'session',
  subject: 'email',
  personal: [{ attribute: 'email', purposes: ['marketing.email'] }],
  rules: [{ attribute: 'age', minimum: 0, maximum: 150 }],
  keyRetention: 'P30D',
};
const source = {
  url: 'http://127.0.0.1:9/',
  interval: 'PT1H',
  staleAfter: 'P7D',
  dataTypes: { email: 'user.contact.email' },
};

/** Bodies by `METHOD /path` as the OpenAPI document writes the path. */
export const SEEDS: Record<string, unknown> = {
  'POST /v1/session/exchange': { code: 'not-a-real-code' },
  'PUT /v1/policies/{name}': {
    ...policy,
    description: 'fz',
    dataSubjects: ['customers'],
    reviewedOn: '2024-06-01',
  },
  'POST /v1/policies/{name}/preview': { retention: 'P6M' },
  'PUT /v1/systems/{name}': system,
  'POST /v1/events': { events: [usage('fz-e1'), usage('fz-e2', 'u-2000')] },
  'POST /v1/subjects/{subject}/erasures': {
    system: 'accounts',
    fields: ['accounts.email'],
    at: '2024-06-02T00:00:00Z',
  },
  'PUT /v1/teams/{name}': { description: 'fz', contact: 'team@shop.example' },
  'PUT /v1/flows/{from}/{to}': { categories: ['user.contact.email'], description: 'fz' },
  'PUT /v1/clients/{name}': { system: 'accounts', protocol: 'ticket' },
  'PUT /v1/organisation': DEMO_MAP.organisation,
  'PUT /v1/taxonomy': {
    categories: [{ key: 'user.contact.fz', description: 'fz' }],
    purposes: [{ key: 'marketing.fz', description: 'fz' }],
  },
  'POST /v1/datamap/sources/prometheus': { name: 'fz-prometheus', ...source },
  'POST /v1/datamap/sources/scrape': {
    name: 'fz-scrape',
    ...source,
    url: undefined,
    targets: ['http://127.0.0.1:9/metrics'],
  },
  'POST /v1/manifest': {
    teams: [{ name: 'fz-team' }],
    policies: [{ name: 'fz-policy', ...policy }],
    systems: [{ name: 'fz-system', ...system }],
    flows: [{ from: 'fz-system', to: 'warehouse', categories: ['user.contact.email'] }],
  },
  'POST /v1/requests': {
    type: 'dsar',
    identifiers: { subject: DEMO_SUBJECT, email: 'u-1001@example.com' },
    jurisdiction: 'gdpr',
    receivedAt: '2024-06-01T00:00:00Z',
  },
  'POST /v1/requests/{id}/verify-identity': { method: 'id document', note: 'fz' },
  'POST /v1/requests/{id}/deny': { reason: 'fz' },
  'POST /v1/requests/{id}/cancel': { reason: 'fz' },
  'POST /v1/requests/{id}/extend': { reason: 'fz' },
  'POST /v1/requests/{id}/tasks/{task}/complete': {
    note: 'fz',
    deleted: 1,
    records: [{ dataset: 'accounts', pk: '1', fields: { email: 'u-1001@example.com' } }],
  },
  'PUT /v1/connectors/{name}': connector,
  'PUT /v1/subjects/{subject}/consent': {
    purposes: { 'marketing.email': true },
    notice: 'https://shop.example/privacy',
    noticeVersion: 'v1',
    source: 'fz',
    method: 'checkbox',
    channel: 'web',
    at: '2024-06-01T00:00:00Z',
  },
  'POST /v1/keys/rotate': { revokePrevious: false },
  'PUT /v1/contracts/{name}': contract,
  'POST /v1/streams/events': [pageView('fz-v1'), pageView('fz-v2')],
  'PUT /v1/stream-exports/{name}': {
    target: 'file',
    purposes: ['marketing'],
    withheld: 'drop',
    file: { maxAgeSeconds: 60 },
  },
};

/** Bodies sent as text (CSV, NDJSON) by `METHOD /path`. */
export const TEXT_SEEDS: Record<string, Record<string, string>> = {
  'POST /v1/requests/import': {
    'text/csv': `type,email,subject\ndsar,u-2001@example.com,${DEMO_SUBJECT}\ndelete,,u-2000\n`,
  },
  'POST /v1/consent/import': {
    'text/csv': `subject,purpose,granted,at\n${DEMO_SUBJECT},marketing.email,yes,2024-06-01T00:00:00Z\n`,
    'application/x-ndjson': `{"subject":"${DEMO_SUBJECT}","purposes":{"marketing.email":false}}\n`,
  },
  'POST /v1/events': { 'application/x-ndjson': `${JSON.stringify(usage('fz-n1'))}\n` },
  'POST /v1/streams/events': { 'application/x-ndjson': `${JSON.stringify(pageView('fz-n2'))}\n` },
};
