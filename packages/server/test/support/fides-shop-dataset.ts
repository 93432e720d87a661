/**
 * A fideslang dataset in the shape of Fides' own postgres example (customers, shared addresses,
 * employees, products, orders and their items, payment cards, logins, visits, service requests),
 * written from the fideslang docs, and the tables a connector imports it as.
 */
export const FIDES_SHOP_DATASET = `
dataset:
  - fides_key: shop_db
    name: Shop database
    description: The web shop's PostgreSQL database
    collections:
      - name: address
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: { primary_key: true }
          - name: street
            data_categories: [user.contact.address]
          - name: zip
            data_categories: [user.contact.address.postal_code]
      - name: customer
        fields:
          - name: id
            data_categories: [user.unique_id]
            fides_meta: { primary_key: true }
          - name: email
            data_categories: [user.contact.email]
            fides_meta: { identity: email, data_type: string }
          - name: phone
            data_categories: [user.contact.phone_number]
            fides_meta:
              identity: phone_number
              masking_strategy_override: { strategy: null_rewrite }
          - name: name
            data_categories: [user.name]
            fides_meta:
              data_type: string
              length: 40
              masking_strategy_override:
                strategy: string_rewrite
                configuration: { rewrite_value: erased customer }
          - name: address_id
            data_categories: [system.operations]
            fides_meta:
              references: [{ dataset: shop_db, field: address.id, direction: to }]
          - name: created
      - name: employee
        fields:
          - name: id
            fides_meta: { primary_key: true }
          - name: name
            data_categories: [user.name]
          - name: email
            data_categories: [user.contact.email]
            fides_meta: { identity: email }
      - name: product
        fields:
          - name: id
            fides_meta: { primary_key: true }
          - name: name
            data_categories: [system.operations]
      - name: orders
        fields:
          - name: id
            fides_meta: { primary_key: true }
          - name: customer_id
            data_categories: [system.operations]
            fides_meta:
              references: [{ dataset: shop_db, field: customer.id, direction: from }]
          - name: shipping_address_id
            fides_meta:
              references: [{ dataset: shop_db, field: address.id, direction: to }]
      - name: order_item
        fields:
          - name: order_id
            fides_meta:
              primary_key: true
              references: [{ dataset: shop_db, field: orders.id, direction: from }]
          - name: item_no
            fides_meta: { primary_key: true, data_type: integer }
          - name: product_id
            fides_meta:
              references: [{ dataset: shop_db, field: product.id, direction: to }]
      - name: payment_card
        fides_meta:
          masking_strategy_override: { strategy: delete }
        fields:
          - name: id
            fides_meta: { primary_key: true }
          - name: ccn
            data_categories: [user.financial.credit_card]
            fides_meta:
              masking_strategy_override: { strategy: hmac, configuration: { algorithm: SHA-256 } }
          - name: holder
            data_categories: [user.name]
            fides_meta:
              masking_strategy_override: { strategy: random_string_rewrite }
          - name: customer_id
            fides_meta:
              references: [{ dataset: shop_db, field: customer.id, direction: from }]
      - name: login
        fides_meta:
          masking_strategy_override: { strategy: delete }
        fields:
          - name: id
            fides_meta: { primary_key: true }
          - name: customer_id
            fides_meta:
              references: [{ dataset: shop_db, field: customer.id, direction: from }]
          - name: ip
            data_categories: [user.device.ip_address]
      - name: visit
        fides_meta:
          masking_strategy_override: { strategy: delete }
        fields:
          - name: id
            fides_meta: { primary_key: true }
          - name: email
            data_categories: [user.contact.email]
            fides_meta: { identity: email }
          - name: last_visit
            data_categories: [system.operations]
      - name: service_request
        fides_meta:
          masking_strategy_override: { strategy: delete }
        fields:
          - name: id
            fides_meta: { primary_key: true }
          - name: email
            data_categories: [user.contact.email]
            fides_meta: { identity: email }
          - name: alt_email
            data_categories: [user.contact.email]
            fides_meta: { identity: email }
          - name: employee_id
            fides_meta:
              references: [{ dataset: shop_db, field: employee.id, direction: to }]
`;

/** The tables \`FIDES_SHOP_DATASET\` imports as. */
export const FIDES_SHOP_TABLES = [
  {
    name: 'address',
    primaryKey: ['id'],
    erase: 'fields',
    columns: {
      id: { categories: ['system.operations'] },
      street: { categories: ['user.contact.address'] },
      zip: { categories: ['user.contact.address.postal_code'] },
    },
  },
  {
    name: 'customer',
    primaryKey: ['id'],
    erase: 'fields',
    columns: {
      email: { tags: ['email'], categories: ['user.contact.email'] },
      phone: { tags: ['phone'], categories: ['user.contact.phone_number'], mask: { strategy: 'null' } },
      name: { categories: ['user.name'], mask: { strategy: 'fixed', value: 'erased customer' } },
      address_id: { categories: ['system.operations'] },
    },
    links: [{ column: 'address_id', references: 'address.id', direction: 'to' }],
  },
  {
    name: 'employee',
    primaryKey: ['id'],
    erase: 'fields',
    columns: {
      name: { categories: ['user.name'] },
      email: { tags: ['email'], categories: ['user.contact.email'] },
    },
  },
  {
    name: 'product',
    primaryKey: ['id'],
    erase: 'fields',
    columns: { name: { categories: ['system.operations'] } },
  },
  {
    name: 'orders',
    primaryKey: ['id'],
    erase: 'fields',
    columns: { customer_id: { categories: ['system.operations'] } },
    links: [
      { column: 'customer_id', references: 'customer.id', direction: 'from' },
      { column: 'shipping_address_id', references: 'address.id', direction: 'to' },
    ],
  },
  {
    name: 'order_item',
    primaryKey: ['order_id', 'item_no'],
    erase: 'fields',
    columns: {},
    links: [
      { column: 'order_id', references: 'orders.id', direction: 'from' },
      { column: 'product_id', references: 'product.id', direction: 'to' },
    ],
  },
  {
    name: 'payment_card',
    primaryKey: ['id'],
    erase: 'row',
    columns: {
      ccn: { categories: ['user.financial.credit_card'], mask: { strategy: 'hmac' } },
      holder: { categories: ['user.name'], mask: { strategy: 'random' } },
    },
    links: [{ column: 'customer_id', references: 'customer.id', direction: 'from' }],
  },
  {
    name: 'login',
    primaryKey: ['id'],
    erase: 'row',
    columns: { ip: { categories: ['user.device.ip_address'] } },
    links: [{ column: 'customer_id', references: 'customer.id', direction: 'from' }],
  },
  {
    name: 'visit',
    primaryKey: ['id'],
    erase: 'row',
    columns: {
      email: { tags: ['email'], categories: ['user.contact.email'] },
      last_visit: { categories: ['system.operations'] },
    },
  },
  {
    name: 'service_request',
    primaryKey: ['id'],
    erase: 'row',
    columns: {
      email: { tags: ['email'], categories: ['user.contact.email'] },
      alt_email: { tags: ['email'], categories: ['user.contact.email'] },
    },
    links: [{ column: 'employee_id', references: 'employee.id', direction: 'to' }],
  },
];

/** A SQLite database for the dataset: Ada and Bob share address 1 and are served by Eve. */
export const FIDES_SHOP_SQLITE = [
  'create table address (id integer primary key, street text, zip text)',
  'create table customer (id integer primary key, email text, phone text, name text not null, address_id integer references address(id), created text)',
  'create table employee (id integer primary key, name text, email text)',
  'create table product (id integer primary key, name text)',
  'create table orders (id integer primary key, customer_id integer references customer(id), shipping_address_id integer references address(id))',
  'create table order_item (order_id integer not null references orders(id), item_no integer not null, product_id integer references product(id), primary key (order_id, item_no))',
  'create table payment_card (id integer primary key, ccn text, holder text, customer_id integer references customer(id))',
  'create table login (id integer primary key, customer_id integer references customer(id), ip text)',
  'create table visit (id integer primary key, email text, last_visit text)',
  'create table service_request (id integer primary key, email text, alt_email text, employee_id integer references employee(id))',
  "insert into address values (1, '1 Elm St', '10115'), (2, '9 Oak Rd', '20095')",
  "insert into customer values (1, 'ada@example.com', '+49 30 1', 'Ada', 1, '2024-01-01'), (2, 'bob@example.com', '+49 30 2', 'Bob', 1, '2024-01-02')",
  "insert into employee values (1, 'Eve', 'eve@shop.example')",
  "insert into product values (1, 'Lamp')",
  'insert into orders values (10, 1, 1), (11, 2, 1)',
  'insert into order_item values (10, 1, 1), (11, 1, 1)',
  "insert into payment_card values (20, '4111', 'ADA L', 1), (21, '5500', 'BOB K', 2)",
  "insert into login values (30, 1, '10.0.0.1'), (31, 2, '10.0.0.2')",
  "insert into visit values (40, 'ada@example.com', '2024-05-01'), (41, 'bob@example.com', '2024-05-02')",
  "insert into service_request values (50, 'someone@else.example', 'ada@example.com', 1), (51, 'bob@example.com', null, 1)",
];
