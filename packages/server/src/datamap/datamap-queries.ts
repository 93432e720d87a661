import type { Organisation } from '@lethe/api';
import { sql, type Kysely } from 'kysely';
import type {
  DiscoverySourceRow,
  FlowRow,
  ObservationRow,
  RightsClientRow,
  TaxonomyEntryRow,
  TeamRow,
  UsageLinkRow,
} from './datamap-tables.js';
import type { DatasetRow, FieldRow, SystemRow } from '../retention/retention-tables.js';
import type { Database } from '../store/schema.js';

/** Every table the data map is built from, read together (the graph cache loads this once per version). */
export interface DataMapRows {
  readonly teams: TeamRow[];
  readonly systems: SystemRow[];
  readonly datasets: DatasetRow[];
  readonly fields: FieldRow[];
  readonly flows: FlowRow[];
  readonly clients: RightsClientRow[];
  readonly sources: DiscoverySourceRow[];
  readonly observations: ObservationRow[];
}

/** An observation as a discovery run reports it: everything but the times. */
export type SeenSeries = Omit<ObservationRow, 'first_seen_at' | 'last_seen_at'>;

/**
 * The data map's queries (teams, flows, rights clients, taxonomy extensions, the organisation,
 * discovery sources and their observations, telemetry's usage links). Reached as
 * `repository.datamap`, so it runs inside the same transaction as the repository it hangs off.
 */
export class DataMapQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async version(): Promise<number> {
    const row = await this.db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', 'datamap_version')
      .executeTakeFirstOrThrow();
    return Number(row.value);
  }

  /** Marks the map as changed so that every cached graph is rebuilt. */
  async bumpVersion(): Promise<void> {
    await sql`update meta set value = cast(cast(value as integer) + 1 as text) where key = 'datamap_version'`.execute(
      this.db,
    );
  }

  async loadRows(): Promise<DataMapRows> {
    const [teams, systems, datasets, fields, flows, clients, sources, observations] = await Promise.all([
      this.listTeams(),
      this.db.selectFrom('systems').selectAll().orderBy('name').execute(),
      this.db.selectFrom('datasets').selectAll().orderBy('system').orderBy('position').execute(),
      this.db.selectFrom('fields').selectAll().orderBy('dataset').orderBy('position').execute(),
      this.listFlows(),
      this.listClients(),
      this.listSources(),
      this.db.selectFrom('observations').selectAll().execute(),
    ]);
    return { teams, systems, datasets, fields, flows, clients, sources, observations };
  }

  // Teams -----------------------------------------------------------------------------------

  listTeams(): Promise<TeamRow[]> {
    return this.db.selectFrom('teams').selectAll().orderBy('name').execute();
  }

  getTeam(name: string): Promise<TeamRow | undefined> {
    return this.db.selectFrom('teams').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async saveTeam(row: TeamRow): Promise<void> {
    await this.db
      .insertInto('teams')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ description: row.description, contact: row.contact, updated_at: row.updated_at }),
      )
      .execute();
    await this.bumpVersion();
  }

  async deleteTeam(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('teams').where('name', '=', name).executeTakeFirst();
    await this.bumpVersion();
    return result.numDeletedRows > 0n;
  }

  /** Systems owned by `team`, to refuse removing a team that still owns some. */
  async systemsOfTeam(team: string): Promise<string[]> {
    const rows = await this.db.selectFrom('systems').select('name').where('team', '=', team).execute();
    return rows.map((row) => row.name);
  }

  // Flows -----------------------------------------------------------------------------------

  listFlows(): Promise<FlowRow[]> {
    return this.db.selectFrom('flows').selectAll().orderBy('from_system').orderBy('to_system').execute();
  }

  getFlow(from: string, to: string): Promise<FlowRow | undefined> {
    return this.db
      .selectFrom('flows')
      .selectAll()
      .where('from_system', '=', from)
      .where('to_system', '=', to)
      .executeTakeFirst();
  }

  async saveFlow(row: FlowRow): Promise<void> {
    await this.db
      .insertInto('flows')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['from_system', 'to_system']).doUpdateSet({
          categories: row.categories,
          description: row.description,
          updated_at: row.updated_at,
        }),
      )
      .execute();
    await this.bumpVersion();
  }

  async deleteFlow(from: string, to: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('flows')
      .where('from_system', '=', from)
      .where('to_system', '=', to)
      .executeTakeFirst();
    await this.bumpVersion();
    return result.numDeletedRows > 0n;
  }

  // Rights clients --------------------------------------------------------------------------

  listClients(): Promise<RightsClientRow[]> {
    return this.db.selectFrom('rights_clients').selectAll().orderBy('name').execute();
  }

  getClient(name: string): Promise<RightsClientRow | undefined> {
    return this.db.selectFrom('rights_clients').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async saveClient(row: RightsClientRow): Promise<void> {
    await this.db
      .insertInto('rights_clients')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          system: row.system,
          protocol: row.protocol,
          address: row.address,
          updated_at: row.updated_at,
        }),
      )
      .execute();
    await this.bumpVersion();
  }

  async deleteClient(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('rights_clients').where('name', '=', name).executeTakeFirst();
    await this.bumpVersion();
    return result.numDeletedRows > 0n;
  }

  // Systems (removal; writes live in RetentionQueries.saveSystem) --------------------------

  /** Removes a system with its datasets, fields, flows and rights clients. */
  async deleteSystem(name: string): Promise<boolean> {
    const datasets = await this.db.selectFrom('datasets').select('name').where('system', '=', name).execute();
    if (datasets.length) {
      const names = datasets.map((d) => d.name);
      await this.db.deleteFrom('fields').where('dataset', 'in', names).execute();
      await this.db.deleteFrom('datasets').where('name', 'in', names).execute();
    }
    await this.db
      .deleteFrom('flows')
      .where((eb) => eb.or([eb('from_system', '=', name), eb('to_system', '=', name)]))
      .execute();
    await this.db.deleteFrom('rights_clients').where('system', '=', name).execute();
    const result = await this.db.deleteFrom('systems').where('name', '=', name).executeTakeFirst();
    await this.bumpVersion();
    return result.numDeletedRows > 0n;
  }

  // Taxonomy extensions and the organisation ------------------------------------------------

  listTaxonomyEntries(): Promise<TaxonomyEntryRow[]> {
    return this.db.selectFrom('taxonomy_entries').selectAll().orderBy('taxonomy').orderBy('key').execute();
  }

  /** Replaces the user's additions to both taxonomies. */
  async replaceTaxonomyEntries(rows: readonly TaxonomyEntryRow[]): Promise<void> {
    await this.db.deleteFrom('taxonomy_entries').execute();
    if (rows.length)
      await this.db
        .insertInto('taxonomy_entries')
        .values([...rows])
        .execute();
    await this.bumpVersion();
  }

  /** The organisation as stored (JSON in meta `organisation`), or undefined when none is declared. */
  async organisation(): Promise<Organisation | undefined> {
    const row = await this.db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', 'organisation')
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.value) as Organisation);
  }

  /** Stores the organisation, or removes it with `undefined`. */
  async saveOrganisation(organisation: Organisation | undefined): Promise<void> {
    await this.db.deleteFrom('meta').where('key', '=', 'organisation').execute();
    if (organisation !== undefined) {
      await this.db
        .insertInto('meta')
        .values({ key: 'organisation', value: JSON.stringify(organisation) })
        .execute();
    }
  }

  // Discovery -------------------------------------------------------------------------------

  listSources(): Promise<DiscoverySourceRow[]> {
    return this.db.selectFrom('discovery_sources').selectAll().orderBy('name').execute();
  }

  getSource(name: string): Promise<DiscoverySourceRow | undefined> {
    return this.db.selectFrom('discovery_sources').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async saveSource(row: DiscoverySourceRow): Promise<void> {
    const { name: _name, created_at: _created, ...changes } = row;
    await this.db
      .insertInto('discovery_sources')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet(changes))
      .execute();
    await this.bumpVersion();
  }

  async deleteSource(name: string): Promise<boolean> {
    await this.db.deleteFrom('observations').where('source', '=', name).execute();
    const result = await this.db.deleteFrom('discovery_sources').where('name', '=', name).executeTakeFirst();
    await this.bumpVersion();
    return result.numDeletedRows > 0n;
  }

  /**
   * Records a successful run: every series seen gets `last_seen_at = at` (new ones also
   * `first_seen_at`); series not seen keep their old `last_seen_at` and so turn stale in time.
   * Returns how many series were new.
   */
  async recordSeen(source: string, series: readonly SeenSeries[], at: number): Promise<number> {
    const known = await this.db
      .selectFrom('observations')
      .select(['kind', 'team', 'system', 'target', 'data_type', 'protocol'])
      .where('source', '=', source)
      .execute();
    const keyOf = (s: Pick<SeenSeries, 'kind' | 'team' | 'system' | 'target' | 'data_type' | 'protocol'>) =>
      JSON.stringify([s.kind, s.team, s.system, s.target, s.data_type, s.protocol]);
    const knownKeys = new Set(known.map(keyOf));
    let added = 0;
    for (const chunk of chunks(series, 200)) {
      await this.db
        .insertInto('observations')
        .values(chunk.map((s) => ({ ...s, first_seen_at: at, last_seen_at: at })))
        .onConflict((oc) =>
          oc
            .columns(['source', 'kind', 'team', 'system', 'target', 'data_type', 'protocol'])
            .doUpdateSet((eb) => ({ last_seen_at: at, category: eb.ref('excluded.category') })),
        )
        .execute();
      added += chunk.filter((s) => !knownKeys.has(keyOf(s))).length;
    }
    await this.db
      .updateTable('discovery_sources')
      .set({ last_run_at: at, last_success_at: at, last_error: null })
      .where('name', '=', source)
      .execute();
    await this.bumpVersion();
    return added;
  }

  async recordFailure(source: string, at: number, message: string): Promise<void> {
    await this.db
      .updateTable('discovery_sources')
      .set({ last_run_at: at, last_error: message })
      .where('name', '=', source)
      .execute();
  }

  // Telemetry's links -----------------------------------------------------------------------

  listUsageLinks(): Promise<UsageLinkRow[]> {
    return this.db
      .selectFrom('usage_links')
      .selectAll()
      .orderBy('system')
      .orderBy('field')
      .orderBy('policy')
      .execute();
  }

  /** Links whose field belongs to one of `fields`: who still uses a system's data. */
  usageLinksOfFields(fields: readonly string[]): Promise<UsageLinkRow[]> {
    if (fields.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('usage_links').selectAll().where('field', 'in', fields).execute();
  }
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
