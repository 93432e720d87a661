import { PII_TAG, type ConnectorInput } from '@lethe/api';
import type { TestSqlDatabase } from './sql-databases.js';

/**
 * A small shop for the rights-request safety rails: Ada and Bob share address 1 (reached up from
 * a customer, so shared and kept), and their orders hang below them (down, so their own).
 */
export const shopConnector = (type: ConnectorInput['type']): ConnectorInput => ({
  type,
  urlEnv: 'SHOP_URL',
  tables: [
    { name: 'addresses', primaryKey: ['id'], columns: { street: [PII_TAG] } },
    {
      name: 'customers',
      primaryKey: ['id'],
      columns: { email: ['email', PII_TAG], name: [PII_TAG] },
      links: [{ column: 'address_id', references: 'addresses.id' }],
    },
    {
      name: 'orders',
      primaryKey: ['id'],
      columns: { note: [PII_TAG] },
      links: [{ column: 'customer_id', references: 'customers.id', direction: 'from' }],
    },
  ],
});

/** Creates the shop's tables with its two customers; `orders` are `(id, customer_id, 'note')` value lists. */
export async function createShop(database: TestSqlDatabase, orders: string): Promise<void> {
  const { text } = database.types;
  await database.exec(
    `create table addresses (id integer primary key, street ${text})`,
    `create table customers (id integer primary key, email ${text}, name ${text},
       address_id integer references addresses (id))`,
    `create table orders (id integer primary key, customer_id integer not null references customers (id), note ${text})`,
    `insert into addresses (id, street) values (1, '1 Shared Street')`,
    `insert into customers (id, email, name, address_id) values (1, 'ada@example.com', 'Ada', 1),
       (2, 'bob@example.com', 'Bob', 1)`,
    `insert into orders (id, customer_id, note) values ${orders}`,
  );
}
