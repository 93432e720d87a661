import type BetterSqlite3 from 'better-sqlite3';
import { NO_EVENT_ID_HORIZON } from '../migrations/0016-usage-journal.js';
import { openSqliteConnection } from './sqlite-connection.js';

/** Where the main database's folded journal position is kept (`meta`): rows up to it are folded. */
export const FOLDED_POSITION_KEY = 'usage_journal_folded';

/**
 * The usage journal's own database file next to the main one (`lethe.db` → `lethe.journal.db`),
 * with everything an append needs: the journal, the event ids that deduplicate it and the
 * event-id horizon. An append commits to this file only, so it never waits for the fold, which
 * commits to the main file. WAL with `synchronous=FULL` like the main file: a committed append
 * survives a crash, and so does the audit entry stored with it (chained at fold time).
 */
export function journalFileOf(mainFile: string): string {
  if (mainFile === ':memory:') return ':memory:';
  return mainFile.endsWith('.db') ? `${mainFile.slice(0, -3)}.journal.db` : `${mainFile}.journal`;
}

export function openJournalFile(file: string): BetterSqlite3.Database {
  const journal = openSqliteConnection(file);
  // AUTOINCREMENT: a position is never used twice, even after every row was folded and deleted
  // (the folded position lives in the main file and must stay below every new row).
  journal.exec(`
    create table if not exists usage_journal (
      seq integer primary key autoincrement,
      appended_at integer not null,
      events integer not null,
      payload blob not null,
      audit text
    );
    create table if not exists event_ids (id text primary key, received_at integer not null) without rowid;
    create index if not exists event_ids_received on event_ids (received_at);
    create table if not exists journal_meta (key text primary key, value text not null) without rowid;
  `);
  journal
    .prepare("insert or ignore into journal_meta (key, value) values ('event_id_horizon', ?)")
    .run(NO_EVENT_ID_HORIZON);
  return journal;
}

/**
 * Data dirs from before the journal had its own file keep it in the main file: its rows (none of
 * them folded yet, folding deleted them), the event ids and the horizon move here. The copy
 * commits first and ignores what is already here, the main file's tables are dropped after: a
 * crash in between repeats the copy at the next start, harmlessly. Their audit entries were
 * chained when they were appended, so the moved rows carry none. Then the positions are lined
 * up: the folded position starts at 0 and new rows are numbered after it.
 */
export function adoptJournal(
  main: BetterSqlite3.Database,
  journal: BetterSqlite3.Database,
  mainFile: string,
) {
  main.prepare("insert or ignore into meta (key, value) values (?, '0')").run(FOLDED_POSITION_KEY);
  const legacy = main
    .prepare("select 1 as found from sqlite_master where type = 'table' and name = 'usage_journal'")
    .get();
  if (legacy && mainFile !== ':memory:') {
    journal.prepare('attach database ? as legacy').run(mainFile);
    try {
      journal.transaction(() => {
        journal.exec(`
          insert or ignore into usage_journal (seq, appended_at, events, payload, audit)
            select seq, appended_at, events, payload, null from legacy.usage_journal;
          insert or ignore into event_ids (id, received_at) select id, received_at from legacy.event_ids;
          update journal_meta set value = max(cast(value as integer), coalesce((
            select cast(value as integer) from legacy.meta where key = 'event_id_horizon'), value))
            where key = 'event_id_horizon';
        `);
      })();
    } finally {
      journal.exec('detach database legacy');
    }
  }
  if (legacy) {
    main.transaction(() => {
      main.exec(`
        drop table usage_journal;
        drop table event_ids;
        delete from meta where key = 'event_id_horizon';
      `);
    })();
  }
  const folded = foldedPosition(main);
  journal.transaction(() => {
    journal
      .prepare(
        "insert into sqlite_sequence (name, seq) select 'usage_journal', 0 where not exists (select 1 from sqlite_sequence where name = 'usage_journal')",
      )
      .run();
    journal.prepare("update sqlite_sequence set seq = max(seq, ?) where name = 'usage_journal'").run(folded);
  })();
}

export function foldedPosition(main: BetterSqlite3.Database): number {
  const row = main
    .prepare<[string], { value: string }>('select value from meta where key = ?')
    .get(FOLDED_POSITION_KEY);
  return Number(row?.value ?? 0);
}
