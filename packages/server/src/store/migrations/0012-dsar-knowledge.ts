import type { Kysely, Migration } from 'kysely';

/**
 * What Lethe itself knew about a DSAR's subject when the request completed (its Art. 15 answer),
 * sealed under the request key like the records found, and nulled with them.
 */
export const dsarKnowledgeMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('rights_requests').addColumn('knowledge_sealed', 'text').execute();
  },
};
