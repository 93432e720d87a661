import type { Manifest, ManifestContract, PolicyInput, SystemInput } from '@lethe/api';
import { LETHE_ITSELF } from '../auth/principal.js';
import type { Services } from '../services.js';

/**
 * A small demo company, loaded by `lethe serve --demo` into an empty store so that a new user
 * sees real answers at once. Among it, the DESIGN.md §4 example: subject `u-1001` opened an
 * account on 2023-01-05 (user-account-access, P2Y) and bought once (order-delivery, P120D),
 * nothing after, so the subject expires on 2025-01-05. The same subject subscribed to the
 * quarterly newsletter at sign-up (send-marketing-email, consent-based, P6M): while consent stood
 * each mail kept `campaigns.opens` alive for six months; the unsubscribe on 2024-05-20 cut that
 * at the withdrawal, and the mail sent after it is a consent violation that keeps nothing.
 */
export const DEMO_SUBJECT = 'u-1001';

export const DEMO_POLICIES: Record<string, PolicyInput> = {
  'user-account-access': {
    purpose: 'essential.account',
    retention: 'P2Y',
    legalBasis: 'contract',
    description: 'A user signs in or updates their account.',
  },
  'order-delivery': {
    purpose: 'essential.orders',
    retention: 'P120D',
    legalBasis: 'contract',
    description: 'Delivering an order and handling its returns.',
  },
  'send-marketing-email': {
    purpose: 'marketing.email',
    retention: 'P6M',
    legalBasis: 'consent',
    description: 'Quarterly marketing email to subscribers.',
  },
  'fraud-prevention': {
    purpose: 'security.fraud',
    retention: 'P1Y',
    legalBasis: 'legitimate_interests',
    description: 'Scoring sign-ins and payments for fraud.',
  },
  'tax-records': {
    purpose: 'legal.tax',
    retention: 'P7Y',
    legalBasis: 'legal_obligation',
    description: 'Invoices kept for the tax authority.',
  },
};

const field = (name: string, ...categories: string[]) => ({ name, categories });

export const DEMO_SYSTEMS: Record<string, SystemInput> = {
  accounts: {
    team: 'identity',
    description: 'Sign-up, sign-in and profile.',
    datasets: [
      {
        name: 'accounts',
        fields: [
          field('email', 'user.contact.email'),
          field('name', 'user.name'),
          field('phone', 'user.contact.phone_number'),
          field('password_hash', 'user.authorization.credentials'),
        ],
      },
    ],
  },
  orders: {
    team: 'commerce',
    description: 'Checkout, delivery and invoicing.',
    datasets: [
      {
        name: 'orders',
        fields: [
          field('shipping_address', 'user.contact.address'),
          field('items', 'user.behavior.purchase_history'),
        ],
      },
      {
        name: 'invoices',
        fields: [field('billing_address', 'user.contact.address'), field('amount', 'user.financial')],
      },
    ],
  },
  mailer: {
    team: 'growth',
    description: 'Marketing campaigns.',
    datasets: [{ name: 'campaigns', fields: [field('opens', 'user.behavior')] }],
  },
  risk: {
    team: 'trust',
    description: 'Fraud scoring.',
    datasets: [
      {
        name: 'risk_signals',
        fields: [field('ip_address', 'user.device.ip_address'), field('device_id', 'user.device')],
      },
    ],
  },
  payments: {
    team: 'commerce',
    description: 'Card payments (an external processor).',
    thirdParty: true,
    country: 'US',
    safeguards: 'SCC 2021/914 module 2',
    datasets: [],
  },
  warehouse: { team: 'data', description: 'Analytics warehouse.', country: 'DE', datasets: [] },
};

/** The rest of the demo's map: who runs what, where data goes, and whom to ask. */
export const DEMO_MAP: Manifest = {
  organisation: {
    controller: {
      name: 'Demo Shop GmbH',
      email: 'privacy@demo-shop.example',
      address: 'Demo-Str. 1, Berlin',
    },
    dpo: { name: 'Dana Privacy', email: 'dpo@demo-shop.example' },
    securityMeasures: ['Encryption at rest and in transit', 'Role-based access, reviewed quarterly'],
  },
  teams: [
    { name: 'commerce', description: 'Checkout and payments.' },
    { name: 'data', description: 'Warehouse and reporting.' },
    { name: 'growth', description: 'Marketing.' },
    { name: 'identity', description: 'Accounts and sign-in.' },
    { name: 'trust', description: 'Fraud and abuse.' },
  ],
  flows: [
    { from: 'accounts', to: 'mailer', categories: ['user.contact.email', 'user.name'] },
    { from: 'accounts', to: 'risk', categories: ['user.contact.email'] },
    { from: 'orders', to: 'payments', categories: ['user.contact.address', 'user.financial'] },
    { from: 'orders', to: 'warehouse', categories: ['user.behavior.purchase_history'] },
    { from: 'risk', to: 'warehouse', categories: ['user.device'] },
  ],
  clients: [
    {
      name: 'accounts-privacy',
      system: 'accounts',
      protocol: 'http',
      address: 'http://accounts.internal/privacy',
    },
    { name: 'payments-ticket', system: 'payments', protocol: 'ticket' },
  ],
};

interface DemoEvent {
  id: string;
  subject: string;
  system: string;
  policy: string;
  fields: string[];
  at: string;
}

/** A consent import line (docs/consent.md). */
interface DemoConsent {
  subject: string;
  purposes: Record<string, boolean>;
  at: string;
  notice: string;
  noticeVersion: string;
  method: string;
  channel: string;
  source: string;
}

const NEWSLETTER = 'marketing.email';
const QUARTERLY_MAILS = ['2023-04-03', '2023-07-03', '2023-10-02', '2024-01-08', '2024-04-02'];

/** The §4 subject's newsletter: consent at sign-up, quarterly mails, an unsubscribe, one mail too many. */
function demoSubjectConsent(): DemoConsent[] {
  const proof = { notice: 'https://metronome.example/privacy', noticeVersion: 'v1', source: 'signup-page' };
  return [
    {
      subject: DEMO_SUBJECT,
      purposes: { [NEWSLETTER]: true },
      at: '2023-01-05T10:00:00.000Z',
      method: 'checkbox',
      channel: 'web',
      ...proof,
    },
    {
      subject: DEMO_SUBJECT,
      purposes: { [NEWSLETTER]: false },
      at: '2024-05-20T08:30:00.000Z',
      method: 'unsubscribe-link',
      channel: 'email',
      ...proof,
      source: 'mailer',
    },
  ];
}

/**
 * Deterministic activity: the §4 example plus a few hundred subjects active over the last two
 * years, with the consent their newsletter mails need (a few of them unsubscribed before a mail).
 */
export function demoActivity(now: number, subjects = 300): { events: DemoEvent[]; consent: DemoConsent[] } {
  let sequence = 0;
  const consent = demoSubjectConsent();
  const events: DemoEvent[] = [
    ...[...QUARTERLY_MAILS, '2024-06-03'].map((day) =>
      event(
        DEMO_SUBJECT,
        'mailer',
        'send-marketing-email',
        ['accounts.email', 'campaigns.opens'],
        `${day}T09:00:00.000Z`,
      ),
    ),
    event(
      DEMO_SUBJECT,
      'accounts',
      'user-account-access',
      ['accounts.email', 'accounts.name', 'accounts.password_hash'],
      '2023-01-05T10:00:00.000Z',
    ),
    event(
      DEMO_SUBJECT,
      'orders',
      'order-delivery',
      ['orders.shipping_address', 'orders.items', 'accounts.email'],
      '2023-03-01T14:00:00.000Z',
    ),
  ];
  const random = mulberry32(1001);
  // A separate stream for consent, so the events stay those of earlier versions of the demo.
  const consentRandom = mulberry32(7);
  const day = 86_400_000;
  for (let index = 0; index < subjects; index += 1) {
    const subject = `u-${2000 + index}`;
    const signup = now - Math.floor(random() * 700 + 30) * day;
    events.push(
      event(subject, 'accounts', 'user-account-access', ['accounts.email', 'accounts.name'], iso(signup)),
    );
    events.push(
      event(
        subject,
        'risk',
        'fraud-prevention',
        ['risk_signals.ip_address', 'risk_signals.device_id'],
        iso(signup + 60_000),
      ),
    );
    const lastLogin = signup + Math.floor(random() * (now - signup));
    events.push(event(subject, 'accounts', 'user-account-access', ['accounts.email'], iso(lastLogin)));
    if (random() < 0.6) {
      const ordered = now - Math.floor(random() * 150) * day - Math.floor(random() * day);
      events.push(
        event(
          subject,
          'orders',
          'order-delivery',
          ['orders.shipping_address', 'orders.items', 'accounts.email'],
          iso(ordered),
        ),
      );
      events.push(
        event(
          subject,
          'orders',
          'tax-records',
          ['invoices.billing_address', 'invoices.amount'],
          iso(ordered),
        ),
      );
    }
    if (random() < 0.4) {
      const mailed = now - Math.floor(random() * 170) * day;
      events.push(
        event(subject, 'mailer', 'send-marketing-email', ['accounts.email', 'campaigns.opens'], iso(mailed)),
      );
      const subscribed = Math.min(signup, mailed);
      const proof = { notice: 'https://metronome.example/privacy', noticeVersion: 'v1', channel: 'web' };
      consent.push({
        subject,
        purposes: { [NEWSLETTER]: true },
        at: iso(subscribed),
        method: 'checkbox',
        source: 'signup-page',
        ...proof,
      });
      // One in five unsubscribed before the mail went out: a consent violation on the dashboard.
      if (consentRandom() < 0.2 && mailed - day > subscribed) {
        consent.push({
          subject,
          purposes: { [NEWSLETTER]: false },
          at: iso(mailed - day),
          method: 'unsubscribe-link',
          source: 'mailer',
          ...proof,
          channel: 'email',
        });
      }
    }
  }
  return { events, consent };

  function event(subject: string, system: string, policy: string, fields: string[], at: string): DemoEvent {
    sequence += 1;
    return { id: `demo-${sequence}`, subject, system, policy, fields, at };
  }
}

/** The demo's whole configuration as one manifest: map, policies, systems and its contract. */
export function demoManifest(): Manifest {
  return {
    ...DEMO_MAP,
    policies: Object.entries(DEMO_POLICIES).map(([name, input]) => ({
      name,
      ...input,
      dataSubjects: name === 'tax-records' ? ['customers'] : ['customers', 'visitors'],
    })),
    systems: Object.entries(DEMO_SYSTEMS).map(([name, input]) => ({ name, ...input })),
    contracts: [DEMO_CONTRACT],
  };
}

/** Loads the demo company into an empty store; returns false (and changes nothing) otherwise. */
export async function loadDemoCompany(services: Services, now = Date.now()): Promise<boolean> {
  if ((await services.policies.list(LETHE_ITSELF)).length > 0) return false;
  await services.manifests.apply(LETHE_ITSELF, demoManifest());
  const { events, consent } = demoActivity(now);
  // Consent first, as a front end would have recorded it before the mails went out.
  const imported = await services.consent.import(
    LETHE_ITSELF,
    'ndjson',
    consent.map((line) => JSON.stringify(line)).join('\n'),
  );
  if (imported.rejected.length)
    throw new Error(`demo consent rejected: ${JSON.stringify(imported.rejected.slice(0, 3))}`);
  const result = await services.telemetry.ingest(LETHE_ITSELF, events);
  if (result.rejected.length)
    throw new Error(`demo events rejected: ${JSON.stringify(result.rejected.slice(0, 3))}`);
  const streamed = await services.streams.ingest(LETHE_ITSELF, demoPageViews(now));
  if (streamed.rejected.length)
    throw new Error(`demo stream events rejected: ${JSON.stringify(streamed.rejected.slice(0, 3))}`);
  return true;
}

/**
 * The shop's page views as a privacy stream (docs/privacy-streams.md): the customer id and e-mail
 * are personal and encrypted per session; the e-mail may be read by a `marketing.email` stream,
 * the city by an `analytics` one.
 */
const DEMO_CONTRACT: ManifestContract = {
  name: 'page-views',
  version: 1,
  description: 'Page views of the web shop, one event per page.',
  schema: {
    type: 'object',
    required: ['sessionId', 'customerId', 'url'],
    properties: {
      sessionId: { type: 'string' },
      customerId: { type: 'string' },
      email: { type: 'string' },
      city: { type: 'string' },
      url: { type: 'string' },
    },
  },
  keyLink: 'sessionId',
  subject: 'customerId',
  personal: [
    { attribute: 'customerId', purposes: ['essential.orders'] },
    { attribute: 'email', purposes: ['marketing.email'] },
    { attribute: 'city', purposes: ['analytics'] },
  ],
  rules: [{ attribute: 'url', pattern: '^https://' }],
};

/** Twenty page views of the last hour by five customers, with the consent each gave. */
function demoPageViews(now: number) {
  const pages = ['/', '/shoes', '/cart', '/checkout'];
  return Array.from({ length: 20 }, (_, n) => {
    const customer = 1001 + (n % 5);
    return {
      id: `demo-view-${n + 1}`,
      contract: 'page-views@1',
      consent: customer % 2 === 1 ? ['essential', 'marketing.email', 'analytics'] : ['essential'],
      at: iso(now - 3_600_000 + n * 60_000),
      data: {
        sessionId: `session-${customer}`,
        customerId: `u-${customer}`,
        email: `customer-${customer}@example.com`,
        city: customer % 2 === 1 ? 'Lyon' : 'Porto',
        url: `https://shop.example${pages[n % pages.length]}`,
      },
    };
  });
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** A tiny seeded PRNG so the demo is the same on every machine. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
