import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { NAIVE_INDEX, NAIVE_INSERT, openNaiveDatabase } from './naive-schema.js';

/**
 * The naive audited read a team would write: for `GET /v1/subjects/{id}`, one durable insert of
 * an audit row (its own transaction: WAL, synchronous=FULL, as Lethe), then the subject's uses
 * from the naive table, as JSON. No authentication, no hash chain, no grouping of commits.
 * `/healthz` answers 200 (the readiness probe).
 */
const { port, file } = parseArgs({ options: { port: { type: 'string' }, file: { type: 'string' } } }).values;
const connection = new BetterSqlite3(file ?? 'naive-reads.db');
openNaiveDatabase(connection);
connection.exec(NAIVE_INDEX);
connection.exec(
  'create table if not exists read_audit (id integer primary key, at integer not null, target text not null)',
);
const insertUse = connection.prepare<[string, string, string, string, number]>(NAIVE_INSERT);
for (const field of ['accounts.email', 'accounts.name']) {
  insertUse.run('u-1001', field, 'user-account-access', 'accounts', Date.now());
}
const audit = connection.prepare<[number, string]>('insert into read_audit (at, target) values (?, ?)');
const uses = connection.prepare<[string]>(
  'select field, policy, system, max(at) as lastUseAt from field_uses where subject = ? group by field, policy, system',
);

const server = createServer((request, response) => {
  const match = /^\/v1\/subjects\/([^/?]+)/.exec(request.url ?? '');
  if (!match) {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  const subject = decodeURIComponent(match[1] as string);
  audit.run(Date.now(), `subject:${subject}`);
  const fields = uses.all(subject);
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ subject, fields }));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () =>
  server.close(() => {
    connection.close();
    process.exit(0);
  }),
);
