import type { ConnectorInput, RightsRequest } from '@lethe/api';
import type { MintRequest } from '../../src/auth/tokens.js';
import { DEFAULT_REQUEST_SETTINGS, type RequestSettings } from '../../src/requests/request-settings.js';
import { availableSqlDatabaseKinds, type TestSqlDatabase } from './sql-databases.js';

/**
 * The small company of the rights-request tests (DESIGN.md §6): its PostgreSQL, MariaDB and SQLite
 * databases with tagged tables and links, their connectors, and how to read a request's tasks and report.
 */

export const ALICE = 'alice@example.com';
export const SETTINGS: RequestSettings = {
  ...DEFAULT_REQUEST_SETTINGS,
  retryBaseMs: 50,
  retryMaxMs: 200,
  callTimeoutMs: 5_000,
};
export const ADMIN: Omit<MintRequest, 'ttlSeconds'> = { subject: 'dpo-dana', role: 'dpo' };

export interface Company {
  readonly crm?: TestSqlDatabase; // PostgreSQL
  readonly shop?: TestSqlDatabase; // MariaDB
  readonly support: TestSqlDatabase; // SQLite
}

export async function buildDatabases(): Promise<Company> {
  const kinds = await availableSqlDatabaseKinds();
  const byType = Object.fromEntries(kinds.map((kind) => [kind.type, kind]));
  const sqliteKind = byType['sqlite'];
  if (!sqliteKind) throw new Error('SQLite is always available');
  const support = await sqliteKind.create();
  await support.exec(
    'create table tickets (id integer primary key, requester_email text, body text, customer_ref text)',
    'create table ticket_notes (id integer primary key, customer_ref text, note text)',
    `insert into tickets values (1, 'Alice@Example.com', 'my parcel is late', 'C-1'),
      (2, 'bob@example.com', 'refund please', 'C-2')`,
    `insert into ticket_notes values (1, 'C-1', 'follow-up for the late parcel'), (2, 'C-2', 'refund sent')`,
  );
  const company: { crm?: TestSqlDatabase; shop?: TestSqlDatabase; support: TestSqlDatabase } = { support };
  if (byType['postgres']) {
    const crm = await byType['postgres'].create();
    await crm.exec(
      'create table customers (id integer primary key, email text, phone text, name text, city text, crm_ref text)',
      'create table orders (id integer primary key, customer_id integer references customers(id), shipping_address text, total integer)',
      'create table legacy_contacts (id integer primary key, crm_ref text, nickname text)',
      `insert into customers values (1, 'alice@example.com', '+442079460958', 'Alice', 'London', 'R-1'),
        (2, 'bob@example.com', '+12025550143', 'Bob', 'Boston', 'R-2')`,
      `insert into orders values (10, 1, '1 Main St', 30), (11, 1, '1 Main St', 12), (12, 2, '9 Elm St', 7)`,
      `insert into legacy_contacts values (100, 'R-1', 'ally'), (101, 'R-2', 'bobby')`,
    );
    company.crm = crm;
  }
  if (byType['mysql']) {
    const shop = await byType['mysql'].create();
    await shop.exec(
      'create table members (member_id integer primary key, email varchar(255), loyalty_code varchar(255), display_name varchar(255))',
      `insert into members values (1, 'ALICE@example.com', 'LOY-7', 'alice_w'), (2, 'carol@example.com', 'loy-7', 'carol')`,
    );
    company.shop = shop;
  }
  return company;
}

export const CONNECTORS: Record<keyof Company, ConnectorInput> = {
  crm: {
    type: 'postgres',
    urlEnv: 'CRM_DATABASE_URL',
    system: 'crm',
    tables: [
      {
        name: 'customers',
        primaryKey: ['id'],
        columns: {
          email: ['email'],
          phone: ['phone'],
          name: ['compliance/pii'],
          city: ['compliance/pii'],
          crm_ref: ['source/crm-ref'],
        },
      },
      {
        name: 'orders',
        primaryKey: ['id'],
        columns: { shipping_address: ['compliance/pii'] },
        links: [{ column: 'customer_id', references: 'customers.id' }],
      },
      {
        name: 'legacy_contacts',
        primaryKey: ['id'],
        columns: { crm_ref: ['source/crm-ref'], nickname: ['compliance/pii'] },
      },
    ],
  },
  shop: {
    type: 'mysql',
    urlEnv: 'SHOP_DATABASE_URL',
    system: 'shop',
    tables: [
      {
        name: 'members',
        primaryKey: ['member_id'],
        columns: { email: ['email'], loyalty_code: ['custom-key'], display_name: ['compliance/pii'] },
      },
    ],
  },
  support: {
    type: 'sqlite',
    urlEnv: 'SUPPORT_DATABASE_URL',
    system: 'support',
    tables: [
      {
        name: 'tickets',
        primaryKey: ['id'],
        columns: { requester_email: ['email'], body: ['compliance/pii'], customer_ref: ['source/customer'] },
      },
      {
        name: 'ticket_notes',
        primaryKey: ['id'],
        columns: { customer_ref: ['source/customer'], note: ['compliance/pii'] },
      },
    ],
  },
};

export function task(request: RightsRequest, target: string) {
  const found = request.tasks?.find((t) => t.target === target);
  if (!found)
    throw new Error(`no task for ${target}: ${JSON.stringify(request.tasks?.map((t) => t.target))}`);
  return found;
}

export interface Report {
  items: {
    datasource: string;
    pk: string;
    matchCategory: string;
    semantic: string;
    semanticValue?: string;
    piiColumns: string[];
    task: number;
  }[];
}
export const rowsOf = (report: Report) =>
  report.items.map((row) => `${row.datasource}#${row.pk} ${row.matchCategory} ${row.semantic}`).sort();
