import { openKeyedStore } from '../packages/server/src/auth/key-material.js';
import type { DataMapSnapshot, Observation } from '../packages/server/src/datamap/datamap.js';
import type { StoreLocation } from '../packages/server/src/store/open-store.js';
import type { Repository } from '../packages/server/src/store/repository.js';
import type { Database } from '../packages/server/src/store/schema.js';
import { secondsSince } from './stats.js';

/** Rows per multi-row INSERT: ~10 columns each keeps a statement far below SQLite's variable limit. */
const CHUNK = 500;
const HOUR_MS = 3_600_000;

export interface LoadedDataMap {
  readonly seconds: number;
  /** Rows written per table. */
  readonly rows: Readonly<Record<string, number>>;
}

type Insert = <Table extends keyof Database>(
  table: Table,
  values: readonly Database[Table][],
) => Promise<void>;
type Stamps = { readonly created_at: number; readonly updated_at: number };

/**
 * Writes `snapshot` into the store at `location` (created and migrated on the way) in one
 * transaction of multi-row inserts, then bumps the data map's version, as the manifest import
 * would; the server started afterwards reads it like any other map.
 */
export async function loadDataMap(
  location: StoreLocation,
  snapshot: DataMapSnapshot,
  now: number,
): Promise<LoadedDataMap> {
  const { store } = await openKeyedStore(location);
  const started = performance.now();
  const rows: Record<string, number> = {};
  try {
    await store.transaction(async (repository) => {
      const insert = async <Table extends keyof Database>(
        table: Table,
        values: readonly Database[Table][],
      ): Promise<void> => {
        rows[table] = (rows[table] ?? 0) + values.length;
        for (let from = 0; from < values.length; from += CHUNK) {
          await insertChunk(repository, table, values.slice(from, from + CHUNK));
        }
      };
      const stamps = { created_at: now, updated_at: now };
      await insertDeclared(insert, snapshot, stamps);
      await insertDiscovered(insert, snapshot, now, stamps);
      await repository.datamap.bumpVersion();
      await repository.retention.bumpCatalogVersion();
    });
  } finally {
    await store.close();
  }
  return { seconds: secondsSince(started), rows };
}

/** The declared map: teams, systems with their datasets and fields, flows, rights clients. */
async function insertDeclared(insert: Insert, snapshot: DataMapSnapshot, stamps: Stamps): Promise<void> {
  await insert(
    'teams',
    snapshot.teams.map((team) => ({
      name: team.name,
      description: team.description ?? null,
      contact: team.contact ?? null,
      ...stamps,
    })),
  );
  await insert(
    'systems',
    snapshot.systems.map((system) => ({
      name: system.name,
      team: system.team,
      description: system.description ?? null,
      third_party: system.thirdParty ? 1 : 0,
      country: system.country ?? null,
      safeguards: null,
      ...stamps,
    })),
  );
  const datasets = new Map<string, string>();
  for (const system of snapshot.systems) {
    for (const field of system.fields) datasets.set(datasetOf(field.field), system.name);
  }
  await insert(
    'datasets',
    [...datasets].map(([name, system]) => ({ name, system, position: 0 })),
  );
  await insert(
    'fields',
    snapshot.systems.flatMap((system) =>
      system.fields.map((field, position) => ({
        field: field.field,
        dataset: datasetOf(field.field),
        name: field.field.slice(field.field.lastIndexOf('.') + 1),
        categories: JSON.stringify(field.categories),
        position,
      })),
    ),
  );
  await insert(
    'flows',
    snapshot.flows.map((flow) => ({
      from_system: flow.from,
      to_system: flow.to,
      categories: JSON.stringify(flow.categories),
      description: flow.description ?? null,
      ...stamps,
    })),
  );
  await insert(
    'rights_clients',
    snapshot.clients.map((client) => ({
      name: client.name,
      system: client.system,
      protocol: client.protocol,
      address: client.address ?? null,
      ...stamps,
    })),
  );
}

/** What discovery found: its sources and their observations. */
async function insertDiscovered(
  insert: Insert,
  snapshot: DataMapSnapshot,
  now: number,
  stamps: Stamps,
): Promise<void> {
  // Last run "now": the scheduler leaves the sources alone for their first interval.
  await insert(
    'discovery_sources',
    [...new Set(snapshot.observations.map((observation) => observation.source))].sort().map((name) => ({
      name,
      kind: 'prometheus' as const,
      url: 'http://prometheus.invalid:9090',
      targets: null,
      names: '{}',
      data_types: '{}',
      interval_ms: 60_000,
      stale_after_ms: 24 * HOUR_MS,
      ...stamps,
      last_run_at: now,
      last_success_at: now,
      last_error: null,
    })),
  );
  await insert(
    'observations',
    distinctObservations(snapshot.observations).map((observation) => ({
      source: observation.source,
      kind: observation.kind,
      team: observation.team,
      system: observation.system,
      target: observation.target,
      data_type: observation.dataType,
      protocol: observation.protocol,
      category: observation.category,
      first_seen_at: observation.firstSeenAt,
      last_seen_at: observation.lastSeenAt,
    })),
  );
}

async function insertChunk<Table extends keyof Database>(
  repository: Repository,
  table: Table,
  values: readonly Database[Table][],
): Promise<void> {
  // Kysely's insert types do not resolve for a table chosen by a type parameter.
  await repository.db
    .insertInto(table)
    .values(values as never)
    .execute();
}

/** `dataset.field` → `dataset`. */
function datasetOf(field: string): string {
  return field.slice(0, field.lastIndexOf('.'));
}

/**
 * One observation per primary key (the generator may observe the same series twice, e.g. a flow's
 * extra category equal to its first), keeping the latest, as a discovery run's upsert would.
 */
function distinctObservations(observations: readonly Observation[]): Observation[] {
  const byKey = new Map<string, Observation>();
  for (const observation of observations) {
    const key = [
      observation.source,
      observation.kind,
      observation.team,
      observation.system,
      observation.target,
      observation.dataType,
      observation.protocol,
    ].join('\n');
    const known = byKey.get(key);
    if (!known || known.lastSeenAt < observation.lastSeenAt) byKey.set(key, observation);
  }
  return [...byKey.values()];
}
