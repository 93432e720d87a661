import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { serveBatches } from './batch-server.js';
import { NAIVE_INDEX, NAIVE_INSERT, openNaiveDatabase } from './naive-schema.js';

interface NaiveEvent {
  subject: string;
  system: string;
  policy: string;
  fields: string[];
  at: string;
}

/**
 * The naive ingest: JSON.parse, then one prepared insert per event per field, one durable
 * transaction per batch. No validation and no de-duplication, which only flatters it.
 */
const { port, file } = parseArgs({ options: { port: { type: 'string' }, file: { type: 'string' } } }).values;
const connection = new BetterSqlite3(file ?? 'naive.db');
openNaiveDatabase(connection);
connection.exec(NAIVE_INDEX);
const insert = connection.prepare<[string, string, string, string, number]>(NAIVE_INSERT);
const insertBatch = connection.transaction((events: NaiveEvent[]) => {
  for (const event of events) {
    const at = Date.parse(event.at);
    for (const field of event.fields) insert.run(event.subject, field, event.policy, event.system, at);
  }
});

const server = serveBatches<NaiveEvent>(Number(port), insertBatch);
process.on('SIGTERM', () =>
  server.close(() => {
    connection.close();
    process.exit(0);
  }),
);
