import type { Identifiers, RequestStrategy, RequestType } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FoundRecord } from '../src/requests/found-record.js';
import { runSqlConnector, type SqlRightsOutcome } from '../src/requests/sql-connectors/sql-connector.js';
import {
  LOGICAL_TABLES,
  PII_COLUMNS,
  sharedParentsSchema,
  type Dump,
  type LogicalTable,
  type SharedParentsSchema,
} from './support/shared-parents-schema.js';
import {
  ALL_SQL_DATABASE_KINDS,
  availableSqlDatabaseKinds,
  type TestSqlDatabase,
} from './support/sql-databases.js';

/**
 * Issue 15: on a schema where people share parent rows (see shared-parents-schema.ts), every
 * request type × strategy × config reaches exactly the rows the reference graph allows, reports
 * which of them are the person's own and which are shared, and an erasure changes the person's
 * own rows only: every other row of every table is byte-for-byte what it was.
 */

const available = await availableSqlDatabaseKinds();
const TYPES: readonly RequestType[] = ['dsar', 'delete_pii', 'delete'];

type Reach = Partial<Record<LogicalTable, readonly number[]>>;
interface Expectation {
  /** Rows of the person: deleted by `delete`, their pii columns nulled by `delete_pii`. */
  readonly own: Reach;
  /** Rows read (a DSAR shows them) but never changed. */
  readonly shared: Reach;
}

/**
 * Ada (customers 1 and 4 match her e-mail; order 13 is a gift to her) under links without a
 * direction: the safe rule walks down from her rows and up from any row, never down from a row
 * reached by walking up. So the gift order climbs to Cy (3), shared, and from Cy only up (her
 * address and profile); Cy's own orders, cards and logins stay out of reach. Profiles and
 * addresses are reached by walking up: shared.
 */
const ADA_LEGACY_EXACT: Expectation = {
  own: {
    customers: [1, 4],
    orders: [10, 13],
    order_items: [100, 101, 104],
    service_requests: [1],
    payment_cards: [1],
    logins: [1, 3],
    visits: [1, 3, 4, 7, 14],
  },
  shared: { addresses: [1, 2, 3], profiles: [1, 3, 4], employees: [1], products: [1, 2], customers: [3] },
};
/**
 * `connected` adds customer 5, whose e-mail is customer 1's alt_email (identity propagation from
 * an own row), and what hangs below it, and Ada's newsletter sign-up (her subject id). Eve's
 * e-mail (a shared employee row), Cy's alt_email and subject id (a shared customer row) seed nothing.
 */
const ADA_LEGACY_CONNECTED: Expectation = {
  own: {
    customers: [1, 4, 5],
    orders: [10, 12, 13],
    order_items: [100, 101, 103, 104],
    service_requests: [1, 4],
    payment_cards: [1, 3],
    logins: [1, 3],
    visits: [1, 3, 4, 6, 7, 14],
    newsletter: [1],
  },
  shared: {
    addresses: [1, 2, 3],
    profiles: [1, 3, 4],
    employees: [1, 2],
    products: [1, 2, 3],
    customers: [3],
  },
};
/**
 * Directed references: orders → customers is `from` (customer down to order only), so the gift
 * order does not lead to Cy; profiles are `owner: subject`, so the ones Ada's rows point at are hers.
 */
const ADA_DIRECTED_EXACT: Expectation = {
  own: { ...ADA_LEGACY_EXACT.own, profiles: [1, 4] },
  shared: { addresses: [1, 3], employees: [1], products: [1, 2] },
};
const ADA_DIRECTED_CONNECTED: Expectation = {
  own: { ...ADA_LEGACY_CONNECTED.own, profiles: [1, 4] },
  shared: { addresses: [1, 3], employees: [1, 2], products: [1, 2, 3] },
};
/** Bob shares Ada's address, employee and a product; nothing of Ada's may be reached as his. */
const BOB_LEGACY: Expectation = {
  own: {
    customers: [2],
    orders: [11],
    order_items: [102],
    service_requests: [2],
    payment_cards: [2],
    logins: [2],
    visits: [2],
  },
  shared: { addresses: [1], profiles: [2], employees: [1], products: [1] },
};
const BOB_DIRECTED: Expectation = {
  own: { ...BOB_LEGACY.own, profiles: [2] },
  shared: { addresses: [1], employees: [1], products: [1] },
};
/** `connected` adds Bob's newsletter sign-up, found by the subject id of his customer row. */
const withNewsletter = (expected: Expectation, id: number): Expectation => ({
  ...expected,
  own: { ...expected.own, newsletter: [id] },
});

type ConfigKind = 'legacy' | 'directed';
interface Scenario {
  readonly config: ConfigKind;
  readonly strategy: RequestStrategy;
  readonly who: string;
  readonly identifiers: Identifiers;
  readonly expected: Expectation;
}
const ADA: Identifiers = { email: 'ada@example.com' };
const BOB: Identifiers = { email: 'bob@example.com' };
const SCENARIOS: Scenario[] = [
  { config: 'legacy', strategy: 'exact', who: 'Ada', identifiers: ADA, expected: ADA_LEGACY_EXACT },
  { config: 'legacy', strategy: 'connected', who: 'Ada', identifiers: ADA, expected: ADA_LEGACY_CONNECTED },
  { config: 'directed', strategy: 'exact', who: 'Ada', identifiers: ADA, expected: ADA_DIRECTED_EXACT },
  {
    config: 'directed',
    strategy: 'connected',
    who: 'Ada',
    identifiers: ADA,
    expected: ADA_DIRECTED_CONNECTED,
  },
  { config: 'legacy', strategy: 'exact', who: 'Bob', identifiers: BOB, expected: BOB_LEGACY },
  {
    config: 'legacy',
    strategy: 'connected',
    who: 'Bob',
    identifiers: BOB,
    expected: withNewsletter(BOB_LEGACY, 2),
  },
  { config: 'directed', strategy: 'exact', who: 'Bob', identifiers: BOB, expected: BOB_DIRECTED },
  {
    config: 'directed',
    strategy: 'connected',
    who: 'Bob',
    identifiers: BOB,
    expected: withNewsletter(BOB_DIRECTED, 2),
  },
];

/** Whether the engine reported a row as shared (read, never changed). */
function isShared(found: FoundRecord): boolean {
  return found.kept === 'shared';
}

/** `table pk own|shared` lines, sorted: a diff shows at once which row is misplaced. */
function expectedLines(expected: Expectation): string[] {
  const lines = (reach: Reach, kind: string) =>
    Object.entries(reach).flatMap(([table, ids]) => (ids ?? []).map((id) => `${table} ${id} ${kind}`));
  return [...lines(expected.own, 'own'), ...lines(expected.shared, 'shared')].sort();
}

function ownIds(expected: Expectation, table: LogicalTable): ReadonlySet<unknown> {
  return new Set(expected.own[table] ?? []);
}

/** What every table must hold after `type` ran: own rows gone or their pii NULL, all else as before. */
function expectedAfter(type: RequestType, before: Dump, expected: Expectation): Dump {
  if (type === 'dsar') return before;
  return Object.fromEntries(
    LOGICAL_TABLES.map((table) => {
      const own = ownIds(expected, table);
      const rows = before[table] ?? [];
      if (type === 'delete') return [table, rows.filter((row) => !own.has(row['id']))];
      return [
        table,
        rows.map((row) =>
          own.has(row['id'])
            ? { ...row, ...Object.fromEntries(PII_COLUMNS[table].map((column) => [column, null])) }
            : row,
        ),
      ];
    }),
  );
}

describe.each(ALL_SQL_DATABASE_KINDS)('shared parents on $type', (kind) => {
  const missing = !available.includes(kind);
  let database: TestSqlDatabase;
  let schema: SharedParentsSchema;

  beforeAll(async () => {
    if (missing) return;
    database = await kind.create();
    schema = sharedParentsSchema(database);
  });
  afterAll(async () => {
    if (missing || database === undefined) return;
    await schema.dispose();
    await database.dispose();
  });

  async function execute(
    scenario: Scenario,
    type: RequestType,
  ): Promise<{ outcome: SqlRightsOutcome; records: FoundRecord[] }> {
    const config = scenario.config === 'legacy' ? schema.legacyConfig() : schema.directedConfig();
    const records: FoundRecord[] = [];
    const outcome = await runSqlConnector(
      'shop',
      config,
      database.url,
      { type, strategy: scenario.strategy, identifiers: scenario.identifiers },
      async (batch) => {
        records.push(...batch);
      },
    );
    return { outcome, records };
  }

  const logicalOf = (datasource: string): string => {
    const table = LOGICAL_TABLES.find((logical) => datasource === `shop.${schema.tableName[logical]}`);
    return table ?? `unknown:${datasource}`;
  };
  const reportedLines = (records: readonly FoundRecord[]) =>
    records
      .map((found) => `${logicalOf(found.datasource)} ${found.pk} ${isShared(found) ? 'shared' : 'own'}`)
      .sort();

  describe.each(SCENARIOS)('$who, $config links, $strategy', (scenario) => {
    it.for(TYPES)('%s reaches the expected rows and changes only the own ones', async (type, context) => {
      if (missing) return context.skip(`${kind.type} is not reachable here`);
      await schema.reset();
      const before = await schema.dump();

      const { outcome, records } = await execute(scenario, type);

      const reported = reportedLines(records);
      expect(new Set(reported).size, 'each row is reported once').toBe(reported.length);
      expect(reported).toEqual(expectedLines(scenario.expected));
      expect(outcome.rowsFound).toBe(records.length);
      const after = await schema.dump();
      // The whole database, every table, row and column: nothing but the own rows moved.
      expect(after).toEqual(expectedAfter(type, before, scenario.expected));
      if (type === 'delete') {
        const ownCount = Object.values(scenario.expected.own).reduce(
          (sum, ids) => sum + (ids?.length ?? 0),
          0,
        );
        expect(outcome.rowsDeleted).toBe(ownCount);
      }
      if (type === 'dsar') {
        // A DSAR shows each reached row as it is stored, shared ones included.
        for (const found of records) {
          const table = logicalOf(found.datasource) as LogicalTable;
          const row = before[table]?.find((candidate) => String(candidate['id']) === found.pk);
          expect(found.values, `${table} ${found.pk}`).toEqual(row);
        }
      }
      if (scenario.who === 'Bob') {
        // The issue's "run for customer 2, it clears customer 1's e-mail": Ada's row stays whole.
        const ada = (dump: Dump) => dump['customers']?.find((row) => row['id'] === 1);
        expect(ada(after)).toEqual(ada(before));
        expect(ada(after)?.['email']).toBe('ada@example.com');
      }
    });
  });
});
