import BetterSqlite3 from 'better-sqlite3';
import { addDuration, subtractDuration } from '../packages/server/src/lib/duration.js';
import { WAITING } from '../packages/server/src/retention/expiry.js';
import { NAIVE_INDEX, NAIVE_INSERT, openNaiveDatabase } from './baselines/naive-schema.js';
import { FIELD_NAMES, SYSTEM_NAMES } from './catalog.js';
import {
  ACCOUNT_CLOSURE,
  CLOSING_EVENT,
  EXPIRY_POLICY_NAMES as POLICY_NAMES,
  EXPIRY_RETENTIONS as RETENTIONS,
  SHARE_OF_CLOSED_ACCOUNTS,
} from './expiries-catalog.js';
import { distinctIndexes, randomIndex, seededRandom } from './random.js';
import { secondsSince } from './stats.js';
import { subjectName } from './workload.js';

export interface DatasetOptions {
  readonly subjectFields: number;
  /** The naive table gets the uses of the first this-many subject-fields (all of them if ≥ subjectFields). */
  readonly naiveSubjectFields: number;
  /** Epoch ms; last uses are spread over the two years before it. */
  readonly now: number;
}

export interface Dataset {
  readonly subjectFields: number;
  readonly subjects: number;
  readonly usages: number;
  /** Subject-fields kept by the event-anchored policy: counted from the event, or waiting for it. */
  readonly eventAnchored: { readonly closed: number; readonly waiting: number };
  readonly naiveRows: number;
  readonly naiveSubjectFields: number;
  /** Field-level expiries per UTC day (epoch ms of the day's start): the feed's expected page sizes. */
  readonly perDay: ReadonlyMap<number, number>;
  readonly letheSeconds: number;
  readonly naiveSeconds: number;
}

export const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of an epoch-ms instant, as the API's `day`, `from` and `to` take it. */
export function isoDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}
const YEAR_MS = 365.25 * DAY_MS;
const SUBJECTS_PER_TRANSACTION = 50_000;
const MAX_FIELDS_PER_SUBJECT = 9;
const SHARE_OF_FIELDS_WITH_TWO_POLICIES = 0.3;

/** The rows of one subject, as Lethe's ingest would have left them. */
interface SubjectRows {
  usages: [string, string, string, number, number, number, string][];
  fields: [string, string, number, string, string, number][];
  subject: [string, number, string, string, string];
  /** The account-closed event, when the account is closed and some field uses the closure policy. */
  event: number | undefined;
  /** What the naive table stores per use: the time its retention counts from. */
  anchors: number[];
}

/**
 * Test-data setup, not a measurement: writes Lethe's retention tables directly (the server has
 * created the schema and the catalog) and the naive table with the same uses, in big
 * transactions with durability off. Each subject has 1-9 of the 12 fields (5 on average), each
 * field 1 or 2 policies, last uses spread over two years; the expiries are what Lethe's ingest
 * computes (max over policies of last use + retention, calendar arithmetic). Secondary indexes
 * are dropped before and rebuilt after, from the DDL the server created, because one sorted
 * build is many times faster than millions of random inserts.
 */
export function loadDataset(letheFile: string, naiveFile: string, options: DatasetOptions): Dataset {
  const random = seededRandom(10_000_000);
  const lethe = bulkLoadMode(new BetterSqlite3(letheFile));
  const naiveConnection = new BetterSqlite3(naiveFile);
  openNaiveDatabase(naiveConnection, RETENTIONS);
  const naive = bulkLoadMode(naiveConnection);
  const indexes = dropIndexes(lethe, ['field_expiries', 'subject_expiries']);
  const insertUsage = lethe.prepare(
    'insert into usages (subject, field, policy, first_use_at, last_use_at, use_count, last_system) values (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertField = lethe.prepare(
    'insert into field_expiries (subject, field, expires_at, policy, system, last_use_at) values (?, ?, ?, ?, ?, ?)',
  );
  const insertSubject = lethe.prepare(
    'insert into subject_expiries (subject, expires_at, field, policy, system) values (?, ?, ?, ?, ?)',
  );
  const insertEvent = lethe.prepare(
    'insert into subject_events (subject, name, at, event_id, received_at) values (?, ?, ?, null, ?)',
  );
  const insertNaive = naive.prepare(NAIVE_INSERT);
  const writeLethe = lethe.transaction((chunk: SubjectRows[]) => {
    for (const rows of chunk) {
      for (const usage of rows.usages) insertUsage.run(...usage);
      for (const field of rows.fields) insertField.run(...field);
      insertSubject.run(...rows.subject);
      if (rows.event !== undefined) insertEvent.run(rows.subject[0], CLOSING_EVENT, rows.event, rows.event);
    }
  });
  // The naive design stores, per use, the time its retention counts from: the last use, or for
  // the closure policy the closing event (a waiting one as the day a year before 9999-12-31).
  const writeNaive = naive.transaction((chunk: SubjectRows[]) => {
    for (const rows of chunk) {
      rows.usages.forEach(([subject, field, policy, , , , system], index) => {
        insertNaive.run(subject, field, policy, system, rows.anchors[index]);
      });
    }
  });
  const eventAnchored = { closed: 0, waiting: 0 };

  const perDay = new Map<number, number>();
  const start = options.now - 2 * YEAR_MS;
  let subjectFields = 0;
  let subjects = 0;
  let usages = 0;
  let naiveRows = 0;
  let letheSeconds = 0;
  let naiveSeconds = 0;
  while (subjectFields < options.subjectFields) {
    const chunk: SubjectRows[] = [];
    const naiveChunk: SubjectRows[] = [];
    for (let i = 0; i < SUBJECTS_PER_TRANSACTION && subjectFields < options.subjectFields; i += 1) {
      const fieldCount = Math.min(
        1 + randomIndex(random, MAX_FIELDS_PER_SUBJECT),
        options.subjectFields - subjectFields,
      );
      const rows = subjectRows(random, subjectName(subjects), fieldCount, start, options.now);
      for (const field of rows.fields) {
        if (field[3] !== ACCOUNT_CLOSURE) continue;
        if (field[2] === WAITING) eventAnchored.waiting += 1;
        else eventAnchored.closed += 1;
      }
      for (const field of rows.fields) {
        const day = Math.floor(field[2] / DAY_MS) * DAY_MS;
        perDay.set(day, (perDay.get(day) ?? 0) + 1);
      }
      chunk.push(rows);
      if (subjectFields + fieldCount <= options.naiveSubjectFields) {
        naiveChunk.push(rows);
        naiveRows += rows.usages.length;
      }
      subjects += 1;
      subjectFields += fieldCount;
      usages += rows.usages.length;
    }
    let started = performance.now();
    writeLethe(chunk);
    letheSeconds += secondsSince(started);
    started = performance.now();
    writeNaive(naiveChunk);
    naiveSeconds += secondsSince(started);
  }

  let started = performance.now();
  for (const ddl of indexes) lethe.exec(ddl);
  closeBulkLoad(lethe);
  letheSeconds += secondsSince(started);
  started = performance.now();
  naive.exec(NAIVE_INDEX);
  closeBulkLoad(naive);
  naiveSeconds += secondsSince(started);
  return {
    subjectFields,
    subjects,
    usages,
    eventAnchored,
    naiveRows,
    naiveSubjectFields: Math.min(options.naiveSubjectFields, subjectFields),
    perDay,
    letheSeconds,
    naiveSeconds,
  };
}

function subjectRows(
  random: () => number,
  subject: string,
  fieldCount: number,
  start: number,
  now: number,
): SubjectRows {
  const rows: SubjectRows = {
    usages: [],
    fields: [],
    subject: [subject, 0, '', '', ''],
    event: undefined,
    anchors: [],
  };
  const closedAt =
    random() < SHARE_OF_CLOSED_ACCOUNTS ? wholeSecond(start + random() * (now - start)) : undefined;
  const closure = RETENTIONS.get(ACCOUNT_CLOSURE) as NonNullable<ReturnType<typeof RETENTIONS.get>>;
  // FIELD_NAMES and POLICY_NAMES are sorted, so ascending indexes insert in primary-key order.
  for (const fieldIndex of distinctIndexes(random, FIELD_NAMES.length, fieldCount)) {
    const field = FIELD_NAMES[fieldIndex] as string;
    const policyCount = random() < SHARE_OF_FIELDS_WITH_TWO_POLICIES ? 2 : 1;
    let decided: { expiresAt: number; policy: string; system: string } | undefined;
    let lastUseOfField = 0;
    for (const policyIndex of distinctIndexes(random, POLICY_NAMES.length, policyCount)) {
      const policy = POLICY_NAMES[policyIndex] as string;
      const lastUseAt = wholeSecond(start + random() * (now - start));
      const firstUseAt = wholeSecond(lastUseAt - random() * (lastUseAt - start));
      const system = SYSTEM_NAMES[randomIndex(random, SYSTEM_NAMES.length)] as string;
      rows.usages.push([subject, field, policy, firstUseAt, lastUseAt, 1 + randomIndex(random, 20), system]);
      let expiresAt: number;
      if (policy === ACCOUNT_CLOSURE) {
        // What Lethe's rule gives (docs/retention.md "Aging"): the event + P1Y, or waiting.
        expiresAt = closedAt === undefined ? WAITING : addDuration(closedAt, closure);
        rows.anchors.push(closedAt ?? subtractDuration(WAITING, closure));
        rows.event = closedAt;
      } else {
        expiresAt = addDuration(
          lastUseAt,
          RETENTIONS.get(policy) as NonNullable<ReturnType<typeof RETENTIONS.get>>,
        );
        rows.anchors.push(lastUseAt);
      }
      if (!decided || expiresAt > decided.expiresAt) decided = { expiresAt, policy, system };
      lastUseOfField = Math.max(lastUseOfField, lastUseAt);
    }
    if (!decided) throw new Error('a field without uses');
    rows.fields.push([subject, field, decided.expiresAt, decided.policy, decided.system, lastUseOfField]);
    if (decided.expiresAt > rows.subject[1])
      rows.subject = [subject, decided.expiresAt, field, decided.policy, decided.system];
  }
  return rows;
}

function wholeSecond(epochMs: number): number {
  return Math.floor(epochMs / 1000) * 1000;
}

/** Durability off while loading: if this crashes, the benchmark starts over anyway. */
function bulkLoadMode(connection: BetterSqlite3.Database): BetterSqlite3.Database {
  // Out of WAL first (it cannot be left for anything but a rollback journal), then keep that journal
  // in memory: better-sqlite3 runs SQLite in defensive mode, which refuses journal_mode=OFF.
  connection.pragma('journal_mode = DELETE');
  connection.pragma('journal_mode = MEMORY');
  connection.pragma('synchronous = OFF');
  connection.pragma('locking_mode = EXCLUSIVE');
  connection.pragma('cache_size = -1048576');
  connection.pragma('temp_store = MEMORY');
  return connection;
}

/** Back to WAL, the mode both servers use, so the file is left as they expect it. */
function closeBulkLoad(connection: BetterSqlite3.Database): void {
  connection.pragma('journal_mode = WAL');
  connection.close();
}

/** Drops the secondary indexes of `tables` and returns their DDL, exactly as the migrations wrote it. */
function dropIndexes(connection: BetterSqlite3.Database, tables: readonly string[]): string[] {
  const rows = connection
    .prepare(
      `select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in (${tables.map(() => '?').join(', ')})`,
    )
    .all(...tables) as { name: string; sql: string }[];
  for (const row of rows) connection.exec(`drop index "${row.name}"`);
  return rows.map((row) => row.sql);
}
