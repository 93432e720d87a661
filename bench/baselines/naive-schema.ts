import type BetterSqlite3 from 'better-sqlite3';
import type { Duration } from '../../packages/server/src/lib/duration.js';
import { RETENTIONS, sqliteModifier } from '../catalog.js';

/**
 * The design a team would build for itself: one row per use of a field, retention applied when
 * the expiries are asked for. It is given the same durability as Lethe (WAL, synchronous=FULL),
 * the same page cache, prepared statements, and an index on what its queries group by, so that
 * it is a fair baseline and not a strawman.
 */
export const NAIVE_SCHEMA = `
  create table if not exists field_uses (
    subject text not null,
    field text not null,
    policy text not null,
    system text not null,
    at integer not null
  );
  create table if not exists policies (name text primary key, retention_modifier text not null);
`;

/** Created after bulk loads (a sorted build is faster than random inserts), before ingest. */
export const NAIVE_INDEX =
  'create index if not exists field_uses_subject_field on field_uses (subject, field, at)';

export const NAIVE_INSERT =
  'insert into field_uses (subject, field, policy, system, at) values (?, ?, ?, ?, ?)';

export function openNaiveDatabase(
  connection: BetterSqlite3.Database,
  retentions: ReadonlyMap<string, Duration> = RETENTIONS,
): void {
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = FULL');
  connection.pragma('cache_size = -262144');
  connection.exec(NAIVE_SCHEMA);
  const insertPolicy = connection.prepare('insert or replace into policies values (?, ?)');
  for (const [name, retention] of retentions) insertPolicy.run(name, sqliteModifier(retention));
}

/**
 * One page of the expiry feed, the naive way: the expiry of every (subject, field) is the latest
 * of its uses' `at + retention`, so every day's page groups the whole table. SQLite returns the
 * bare `policy` and `system` columns from the row that holds the max, i.e. the deciding use.
 */
export const NAIVE_EXPIRY_PAGE = `
  select subject, field, expires_at, policy, system from (
    select u.subject, u.field, u.policy, u.system,
      max(unixepoch(u.at / 1000, 'unixepoch', p.retention_modifier, 'floor') * 1000 + u.at % 1000) as expires_at
    from field_uses u join policies p on p.name = u.policy
    group by u.subject, u.field
  )
  where expires_at >= ? and expires_at < ?
  order by expires_at, subject, field
  limit ?`;
