import type { ConnectorInput } from '@lethe/api';
import pg from 'pg';
import {
  runSqlConnector,
  type SqlRightsRun,
} from '../packages/server/src/requests/sql-connectors/sql-connector.js';
import { POSTGRES_ADMIN_URL, withClient } from './postgres-database.js';

/**
 * The PostgreSQL side of `bench:requests`: a database of its own (`lethe_bench_requests_<pid>`,
 * dropped at the end), one table of `rows` events of which `matches` carry the target email,
 * spread evenly over the table, and the three ways of clearing their PII that the benchmark
 * compares: Lethe's SQL connector, a row-by-row script and a single UPDATE.
 */

export const TARGET_EMAIL = 'target@example.com';
export const URL_ENV = 'BENCH_REQUESTS_DATABASE_URL';

/** The connector Lethe would be given for this table: email to match, three PII columns. */
export const CONNECTOR: ConnectorInput = {
  type: 'postgres',
  urlEnv: URL_ENV,
  tables: [
    {
      name: 'events',
      primaryKey: ['id'],
      columns: {
        email: ['email'],
        name: ['compliance/pii'],
        address: ['compliance/pii'],
        phone: ['compliance/pii'],
      },
    },
    {
      name: 'event_notes',
      primaryKey: ['id'],
      columns: { note: ['compliance/pii'] },
      links: [{ column: 'event_id', references: 'events.id' }],
    },
  ],
};

/** Every NOTE_STRIDE-th event has one note (its child row); every target event is one of them. */
export const NOTE_STRIDE = 10;

/** The PII values of row `id`, as SQL over the column `id`: loading and restoring write the same. */
const NAME = `'Name ' || id`;
const ADDRESS = `id || ' Main Street, London'`;
const PHONE = `'+4420' || lpad(id::text, 8, '0')`;
const NOTE = `'Call back ' || event_id || ' after 5pm'`;

export interface LoadOutcome {
  readonly seconds: number;
  readonly tableMiB: number;
  readonly indexMiB: number;
}

export class RequestsDatabase {
  readonly name = `lethe_bench_requests_${process.pid}`;
  readonly url: string;
  #admin: pg.Client | undefined;

  constructor() {
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${this.name}`;
    this.url = url.toString();
  }

  async create(): Promise<void> {
    await withClient(POSTGRES_ADMIN_URL, async (client) => {
      await client.query(`drop database if exists ${this.name} with (force)`);
      await client.query(`create database ${this.name}`);
    });
    this.#admin = new pg.Client({ connectionString: this.url });
    await this.#admin.connect();
  }

  async drop(): Promise<void> {
    await this.#admin?.end().catch(() => {});
    this.#admin = undefined;
    await withClient(POSTGRES_ADMIN_URL, (client) =>
      client.query(`drop database if exists ${this.name} with (force)`),
    );
  }

  get admin(): pg.Client {
    if (this.#admin === undefined) throw new Error('the database is not created yet');
    return this.#admin;
  }

  /**
   * `rows` events in one `insert … select generate_series`; every `rows / matches`-th id carries
   * the target email (so each match sits on a page of its own), the others `user<id>@example.com`.
   * Then the primary key and the index on email, VACUUM ANALYZE.
   */
  async load(rows: number, matches: number): Promise<LoadOutcome> {
    if (matches > rows) throw new Error('--matches must not exceed --rows');
    const stride = Math.floor(rows / matches);
    const started = performance.now();
    await this.admin.query(
      `create table events (id bigint not null, email text, phone text, name text, address text, payload text)`,
    );
    await this.admin.query(
      `insert into events (id, email, phone, name, address, payload)
       select id,
              case when id % ${stride} = 0 and id / ${stride} <= ${matches} then $1
                   else 'user' || id || '@example.com' end,
              ${PHONE}, ${NAME}, ${ADDRESS}, repeat(md5(id::text), 3)
       from generate_series(1, ${rows}::bigint) as id`,
      [TARGET_EMAIL],
    );
    await this.admin.query('alter table events add primary key (id)');
    await this.admin.query('create index events_email on events (email)');
    // The target rows' children: notes referencing events, with the foreign key and its index.
    await this.admin.query(
      `create table event_notes (id bigint not null, event_id bigint not null, note text)`,
    );
    await this.admin.query(
      `insert into event_notes (id, event_id, note)
       select event_id, event_id, ${NOTE}
       from generate_series(${NOTE_STRIDE}, ${rows}::bigint, ${NOTE_STRIDE}) as event_id`,
    );
    await this.admin.query('alter table event_notes add primary key (id)');
    await this.admin.query('alter table event_notes add foreign key (event_id) references events (id)');
    await this.admin.query('create index event_notes_event_id on event_notes (event_id)');
    await this.admin.query('vacuum analyze events, event_notes');
    const seconds = (performance.now() - started) / 1000;
    const { rows: sizes } = await this.admin.query<{ table: string; indexes: string }>(
      `select pg_table_size('events') + pg_table_size('event_notes') as table,
              pg_indexes_size('events') + pg_indexes_size('event_notes') as indexes`,
    );
    const matched = await this.countTargetRows();
    if (stride % NOTE_STRIDE !== 0)
      throw new Error(`--rows / --matches must be a multiple of ${NOTE_STRIDE}`);
    if (matched !== matches) throw new Error(`loaded ${matched} target rows, expected ${matches}`);
    return {
      seconds,
      tableMiB: Number(sizes[0]?.table) / 2 ** 20,
      indexMiB: Number(sizes[0]?.indexes) / 2 ** 20,
    };
  }

  /** The index the connector's `lower(email) = lower($1)` predicate can use. */
  async addLowerEmailIndex(): Promise<number> {
    const started = performance.now();
    await this.admin.query('create index events_email_lower on events (lower(email))');
    await this.admin.query('analyze events');
    return (performance.now() - started) / 1000;
  }

  /**
   * The server's WAL insert position, in bytes. Unlike pg_stat_wal (flushed by each backend up to
   * a second late) it moves at once; it counts every database on the server.
   */
  async walPosition(): Promise<bigint> {
    const { rows } = await this.admin.query<{ lsn: string }>(
      `select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::text as lsn`,
    );
    return BigInt(rows[0]?.lsn ?? '0');
  }

  async countTargetRows(): Promise<number> {
    const { rows } = await this.admin.query<{ n: string }>(
      'select count(*) as n from events where email = $1',
      [TARGET_EMAIL],
    );
    return Number(rows[0]?.n);
  }

  /** Checks that exactly the target rows have NULL PII, then writes their values back and vacuums. */
  async verifyClearedAndRestore(matches: number, label: string): Promise<void> {
    const { rows } = await this.admin.query<{ cleared: string; target_cleared: string }>(
      `select count(*) filter (where name is null and address is null and phone is null) as cleared,
              count(*) filter (where email = $1 and name is null and address is null and phone is null)
                as target_cleared
       from events where name is null or address is null or phone is null`,
      [TARGET_EMAIL],
    );
    const cleared = Number(rows[0]?.cleared);
    const targetCleared = Number(rows[0]?.target_cleared);
    if (cleared !== matches || targetCleared !== matches) {
      throw new Error(
        `${label}: ${cleared} rows have NULL PII (${targetCleared} of them the target's), expected ${matches}`,
      );
    }
    const { rows: notes } = await this.admin.query<{ cleared: string; target_cleared: string }>(
      `select count(*) as cleared,
              count(*) filter (where event_id in (select id from events where email = $1)) as target_cleared
       from event_notes where note is null`,
      [TARGET_EMAIL],
    );
    if (Number(notes[0]?.cleared) !== matches || Number(notes[0]?.target_cleared) !== matches) {
      throw new Error(
        `${label}: ${notes[0]?.cleared} notes are NULL (${notes[0]?.target_cleared} of them the target's), expected ${matches}`,
      );
    }
    await this.admin.query(
      `update events set name = ${NAME}, address = ${ADDRESS}, phone = ${PHONE} where email = $1`,
      [TARGET_EMAIL],
    );
    await this.admin.query(`update event_notes set note = ${NOTE} where note is null`);
    await this.settle();
  }

  /** Before a timed run: dead tuples vacuumed, dirty pages flushed, so no run pays for the last. */
  async settle(): Promise<void> {
    await this.admin.query('vacuum events, event_notes');
    await this.admin.query('checkpoint');
  }
}

export interface ConnectorMeasure {
  readonly ms: number;
  readonly rowsFound: number;
  readonly rowsChanged: number;
  /** Largest resident-set growth of this process during the run, over its RSS just before. */
  readonly rssGrowthBytes: number;
}

/**
 * One `runSqlConnector` run as Lethe's runner makes it (its own connection, one transaction),
 * with a sink that counts the records instead of storing them. RSS is sampled every 2 ms and at
 * each batch of records.
 */
export async function timeConnector(
  url: string,
  type: 'delete_pii' | 'dsar',
  sink: (count: number) => void = () => {},
): Promise<ConnectorMeasure> {
  const run: SqlRightsRun = { type, strategy: 'exact', identifiers: { email: TARGET_EMAIL } };
  const before = process.memoryUsage.rss();
  let peak = before;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const sampler = setInterval(sample, 2);
  let records = 0;
  try {
    const started = performance.now();
    const outcome = await runSqlConnector('bench', CONNECTOR, url, run, async (batch) => {
      records += batch.length;
      sink(batch.length);
      sample();
    });
    const ms = performance.now() - started;
    if (records !== outcome.rowsFound) {
      throw new Error(`the connector reported ${outcome.rowsFound} rows but handed over ${records} records`);
    }
    return {
      ms,
      rowsFound: outcome.rowsFound,
      rowsChanged: outcome.rowsNulled + outcome.rowsDeleted,
      rssGrowthBytes: peak - before,
    };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * The script someone would write without Lethe: read the matching ids, then one UPDATE per row
 * and one per row's notes, in one transaction. Connecting is timed, as it is for the connector.
 */
export async function timeNaive(url: string): Promise<{ ms: number; rowsChanged: number }> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let changed = 0;
  try {
    await client.query('begin');
    const { rows } = await client.query<{ id: string }>('select id from events where email = $1', [
      TARGET_EMAIL,
    ]);
    for (const { id } of rows) {
      const result = await client.query(
        'update events set name = null, address = null, phone = null where id = $1',
        [id],
      );
      changed += result.rowCount ?? 0;
      await client.query('update event_notes set note = null where event_id = $1', [id]);
    }
    await client.query('commit');
  } finally {
    await client.end();
  }
  return { ms: performance.now() - started, rowsChanged: changed };
}

/**
 * The floor: one statement, an UPDATE of the events through the index on email whose RETURNING
 * ids update their notes (a data-modifying CTE), in its own transaction; connecting timed.
 */
export async function timeFloor(url: string): Promise<{ ms: number; rowsChanged: number }> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let changed = 0;
  try {
    const result = await client.query(
      `with cleared as (
         update events set name = null, address = null, phone = null where email = $1 returning id)
       update event_notes set note = null where event_id in (select id from cleared)`,
      [TARGET_EMAIL],
    );
    changed = result.rowCount ?? 0;
  } finally {
    await client.end();
  }
  return { ms: performance.now() - started, rowsChanged: changed };
}

/**
 * The plan PostgreSQL chooses for the connector's read of the matched events: its cursor, planned
 * for all rows (cursor_tuple_fraction 1, as the connector sets it), for the reading of the figures.
 */
export async function connectorReadPlan(client: pg.Client): Promise<string> {
  await client.query('begin');
  try {
    await client.query(`select set_config('cursor_tuple_fraction', '1', true)`);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `explain declare plan_only no scroll cursor for
       select id from events where lower(email) = lower($1) order by id`,
      [TARGET_EMAIL],
    );
    return rows.map((row) => row['QUERY PLAN'].trim()).join(' / ');
  } finally {
    await client.query('rollback');
  }
}
