import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../packages/server/src/store/schema.js';

/**
 * The "no index" baseline: the question a filtered graph query answers, answered the way a script
 * written for it would, without Lethe's in-memory index. Every request reads the systems, datasets,
 * fields, flows and fresh observations from the SQLite file with Kysely, merges them into edges and
 * filters those in JS, then serialises the answer (as the server does).
 */
export type NaiveQuery =
  | { readonly kind: 'graph'; readonly team?: string; readonly system?: string; readonly category?: string }
  | { readonly kind: 'holders'; readonly category: string }
  | { readonly kind: 'destinations'; readonly system: string; readonly category?: string };

export interface NaiveAnswer {
  readonly json: string;
  /** Edges of a graph, items of a list. */
  readonly count: number;
}

interface Edge {
  readonly kind: 'owns' | 'store' | 'transmit';
  readonly from: string;
  readonly to: string;
  readonly categories: Set<string>;
}

const STALE_AFTER_MS = 24 * 3_600_000;

export class NaiveDataMap {
  readonly #db: Kysely<Database>;

  constructor(file: string) {
    this.#db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(file, { readonly: true }) }),
    });
  }

  async answer(query: NaiveQuery, now: number): Promise<NaiveAnswer> {
    const { edges, teamOf } = await this.#load(now);
    if (query.kind === 'graph') {
      const kept = filterGraph(edges, teamOf, query);
      const nodes = new Set<string>();
      for (const edge of kept) {
        nodes.add(edge.from);
        nodes.add(edge.to);
        for (const key of edge.categories) nodes.add(`category:${key}`);
      }
      const wire = kept.map((edge) => ({ ...edge, categories: [...edge.categories].sort() }));
      return { json: JSON.stringify({ nodes: [...nodes].sort(), edges: wire }), count: kept.length };
    }
    const covers = query.category !== undefined ? coverage(query.category) : () => true;
    const sends = new Map<string, Edge[]>();
    for (const edge of edges) {
      if (edge.kind !== 'transmit' || ![...edge.categories].some(covers)) continue;
      const list = sends.get(edge.from) ?? [];
      list.push(edge);
      sends.set(edge.from, list);
    }
    if (query.kind === 'destinations') {
      const parents = breadthFirst([`system:${query.system}`], sends);
      const items = [...parents]
        .filter(([, parent]) => parent !== null)
        .map(([system]) => ({ system, path: pathTo(system, parents) }));
      return { json: JSON.stringify({ items }), count: items.length };
    }
    const storing = new Set<string>();
    const held = new Map<string, Set<string>>();
    const hold = (system: string, keys: Iterable<string>) => {
      const set = held.get(system) ?? new Set<string>();
      for (const key of keys) set.add(key);
      held.set(system, set);
    };
    for (const edge of edges) {
      if (edge.kind === 'owns') continue;
      const keys = [...edge.categories].filter(covers);
      if (keys.length === 0) continue;
      hold(edge.from, keys);
      if (edge.kind === 'store') storing.add(edge.from);
      else hold(edge.to, keys);
    }
    const parents = breadthFirst([...storing].sort(), sends);
    const items = [...held]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([system, keys]) => ({
        system,
        categories: [...keys].sort(),
        via: parents.has(system) ? pathTo(system, parents) : [system],
      }));
    return { json: JSON.stringify({ items }), count: items.length };
  }

  close(): Promise<void> {
    return this.#db.destroy();
  }

  async #load(now: number): Promise<{ edges: Edge[]; teamOf: Map<string, string> }> {
    const db = this.#db;
    const [systems, datasets, fields, flows, observations] = await Promise.all([
      db.selectFrom('systems').select(['name', 'team']).execute(),
      db.selectFrom('datasets').select(['name', 'system']).execute(),
      db.selectFrom('fields').select(['dataset', 'categories']).execute(),
      db.selectFrom('flows').select(['from_system', 'to_system', 'categories']).execute(),
      db
        .selectFrom('observations')
        .select(['kind', 'team', 'system', 'target', 'category'])
        .where('kind', '!=', 'client')
        .where('last_seen_at', '>', now - STALE_AFTER_MS)
        .execute(),
    ]);
    const byKey = new Map<string, Edge>();
    const edge = (kind: Edge['kind'], from: string, to: string): Edge => {
      const key = `${kind} ${from} ${to}`;
      let found = byKey.get(key);
      if (!found) {
        found = { kind, from, to, categories: new Set() };
        byKey.set(key, found);
      }
      return found;
    };
    const teamOf = new Map<string, string>();
    for (const system of systems) {
      teamOf.set(`system:${system.name}`, `team:${system.team}`);
      edge('owns', `team:${system.team}`, `system:${system.name}`);
    }
    const owner = new Map(datasets.map((dataset) => [dataset.name, dataset.system]));
    for (const field of fields) {
      const system = owner.get(field.dataset);
      if (system === undefined) continue;
      for (const key of JSON.parse(field.categories) as string[]) {
        edge('store', `system:${system}`, `category:${key}`).categories.add(key);
      }
    }
    for (const flow of flows) {
      const found = edge('transmit', `system:${flow.from_system}`, `system:${flow.to_system}`);
      for (const key of JSON.parse(flow.categories) as string[]) found.categories.add(key);
    }
    for (const seen of observations) {
      if (seen.kind === 'store') {
        edge('store', `system:${seen.system}`, `category:${seen.category}`).categories.add(seen.category);
      } else {
        edge('transmit', `system:${seen.system}`, `system:${seen.target}`).categories.add(seen.category);
      }
      if (seen.team !== '') edge('owns', `team:${seen.team}`, `system:${seen.system}`);
    }
    return { edges: [...byKey.values()], teamOf };
  }
}

/** A key the filter covers: the key itself, a key below it, or one above it (which may carry it). */
function coverage(filter: string): (key: string) => boolean {
  return (key) => key === filter || key.startsWith(`${filter}.`) || filter.startsWith(`${key}.`);
}

/** The graph filters of `GET /v1/datamap/graph`, combined with AND. */
function filterGraph(
  edges: readonly Edge[],
  teamOf: ReadonlyMap<string, string>,
  filter: { readonly team?: string; readonly system?: string; readonly category?: string },
): Edge[] {
  let kept: Edge[] = [...edges];
  if (filter.category !== undefined) {
    const covers = coverage(filter.category);
    const reduced: Edge[] = [];
    const ends = new Set<string>();
    for (const edge of kept) {
      if (edge.kind === 'owns') continue;
      const categories = new Set([...edge.categories].filter(covers));
      if (categories.size === 0) continue;
      reduced.push({ ...edge, categories });
      ends.add(edge.from);
      if (edge.kind === 'transmit') ends.add(edge.to);
    }
    for (const edge of kept) if (edge.kind === 'owns' && ends.has(edge.to)) reduced.push(edge);
    kept = reduced;
  }
  if (filter.team !== undefined) {
    const team = `team:${filter.team}`;
    kept = kept.filter(
      (edge) => edge.from === team || teamOf.get(edge.from) === team || teamOf.get(edge.to) === team,
    );
  }
  if (filter.system !== undefined) {
    const system = `system:${filter.system}`;
    const around = new Set([system]);
    for (const edge of edges) {
      if (edge.from === system) around.add(edge.to);
      if (edge.to === system) around.add(edge.from);
    }
    kept = kept.filter((edge) => around.has(edge.from) && around.has(edge.to));
  }
  return kept;
}

function breadthFirst(
  roots: readonly string[],
  sends: ReadonlyMap<string, Edge[]>,
): Map<string, string | null> {
  const parents = new Map<string, string | null>(roots.map((root) => [root, null]));
  const queue = [...roots];
  for (let head = 0; head < queue.length; head++) {
    const from = queue[head] as string;
    for (const edge of sends.get(from) ?? []) {
      if (parents.has(edge.to)) continue;
      parents.set(edge.to, from);
      queue.push(edge.to);
    }
  }
  return parents;
}

function pathTo(system: string, parents: ReadonlyMap<string, string | null>): string[] {
  const path: string[] = [];
  for (let at: string | null | undefined = system; at; at = parents.get(at)) path.push(at);
  return path.reverse();
}
