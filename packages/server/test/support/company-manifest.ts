import type { Manifest } from '@lethe/api';

/**
 * A small company as a manifest: four teams, six systems (two of them third parties in the US,
 * one with safeguards and one without), flows between them, rights clients and a discovery
 * source. The data-map, manifest and RoPA tests share it.
 */
export function companyManifest(): Manifest {
  return {
    organisation: {
      controller: { name: 'Acme GmbH', email: 'privacy@acme.example', address: 'Hauptstr. 1, Berlin' },
      dpo: { name: 'Dana Privacy', email: 'dpo@acme.example' },
      representative: { name: 'Acme EU Rep', email: 'rep@acme.example' },
      securityMeasures: ['Encryption at rest (AES-256)', 'Access by role, reviewed quarterly'],
    },
    taxonomy: {
      categories: [{ key: 'user.contact.email.marketing', description: 'An address given for newsletters.' }],
      purposes: [{ key: 'marketing.email.newsletter', description: 'The weekly newsletter.' }],
    },
    teams: [
      { name: 'commerce', description: 'Orders and payments.', contact: 'commerce@acme.example' },
      { name: 'data', description: 'Warehouse and analytics.' },
      { name: 'growth' },
      { name: 'identity', contact: '#identity' },
    ],
    policies: [
      {
        name: 'order-delivery',
        purpose: 'essential.orders',
        retention: 'P120D',
        legalBasis: 'contract',
        dataSubjects: ['customers'],
      },
      {
        name: 'send-marketing-email',
        purpose: 'marketing.email.newsletter',
        retention: 'P6M',
        legalBasis: 'consent',
        dataSubjects: ['newsletter subscribers'],
        reviewedOn: '2026-10-01',
      },
      {
        name: 'user-account-access',
        purpose: 'essential.account',
        retention: 'P2Y',
        legalBasis: 'contract',
        description: 'Signing in and keeping the account.',
        dataSubjects: ['customers'],
        reviewedOn: '2026-09-15',
      },
    ],
    systems: [
      {
        name: 'accounts',
        team: 'identity',
        description: 'Accounts and sign-in.',
        datasets: [
          {
            name: 'accounts',
            fields: [
              { name: 'email', categories: ['user.contact.email'] },
              { name: 'name', categories: ['user.name'] },
            ],
          },
        ],
      },
      { name: 'analytics-vendor', team: 'data', thirdParty: true, country: 'US', datasets: [] },
      {
        name: 'mailer',
        team: 'growth',
        datasets: [
          { name: 'mailer_lists', fields: [{ name: 'email', categories: ['user.contact.email.marketing'] }] },
        ],
      },
      {
        name: 'orders',
        team: 'commerce',
        datasets: [
          {
            name: 'orders',
            fields: [
              { name: 'address', categories: ['user.contact.address'] },
              { name: 'card', categories: ['user.financial.credit_card'] },
            ],
          },
        ],
      },
      {
        name: 'stripe',
        team: 'commerce',
        description: 'Payment processor.',
        thirdParty: true,
        country: 'US',
        safeguards: 'SCC 2021/914 module 2',
        datasets: [],
      },
      { name: 'warehouse', team: 'data', country: 'DE', datasets: [] },
    ],
    flows: [
      { from: 'accounts', to: 'mailer', categories: ['user.contact.email'] },
      { from: 'accounts', to: 'warehouse', categories: ['user.contact'] },
      { from: 'orders', to: 'stripe', categories: ['user.contact.address', 'user.financial.credit_card'] },
      {
        from: 'warehouse',
        to: 'analytics-vendor',
        categories: ['user.contact.email'],
        description: 'Weekly export.',
      },
    ],
    clients: [
      {
        name: 'accounts-http',
        system: 'accounts',
        protocol: 'http',
        address: 'http://accounts.internal:8080/privacy',
      },
      { name: 'orders-ticket', system: 'orders', protocol: 'ticket' },
    ],
    sources: [
      {
        name: 'prometheus-main',
        kind: 'prometheus',
        url: 'http://prometheus.internal:9090',
        interval: 'PT5M',
        staleAfter: 'PT2H',
        dataTypes: { ip: 'user.device.ip_address' },
      },
    ],
    connectors: [
      {
        name: 'accounts-db',
        type: 'postgres',
        urlEnv: 'ACCOUNTS_DATABASE_URL',
        system: 'accounts',
        tables: [
          {
            name: 'users',
            primaryKey: ['id'],
            columns: { email: ['email'], full_name: ['compliance/pii'] },
          },
          {
            name: 'sessions',
            primaryKey: ['id'],
            columns: { ip: ['compliance/pii'] },
            links: [{ column: 'user_id', references: 'users.id' }],
          },
        ],
      },
    ],
  };
}
