import type { ConnectorInput } from '@lethe/api';
import { sql } from 'kysely';
import { catalogProblems } from './catalog-check.js';
import type { ConfigProblem } from './connector-config.js';
import { openSqlDatabase } from './open-sql-database.js';

/**
 * Checks a connector's config against its database's live catalog (tables, columns, keys: see
 * `catalogProblems`), in a read-only transaction that changes nothing. Fails as a run would when
 * the database cannot be reached (a SqlConnectorError); the caller decides what that means.
 */
export async function checkConnectorSchema(config: ConnectorInput, url: string): Promise<ConfigProblem[]> {
  const tables = config.tables.map((table) => table.name);
  const database = await openSqlDatabase(config.type, url, { readOnly: true, busyTimeoutMs: 10_000 });
  let doing = 'connecting';
  try {
    return await database.db.connection().execute(async (connection) => {
      doing = 'reading the catalog';
      await database.adapter.begin(connection, true);
      try {
        const catalog = await database.adapter.readColumns(connection, tables);
        const keys = await database.adapter.readKeys(connection, tables);
        return catalogProblems(config, catalog, keys);
      } finally {
        await sql`rollback`.execute(connection).catch(() => {});
      }
    });
  } catch (error) {
    throw database.toError(error, doing);
  } finally {
    await database.close();
  }
}
