import type {
  DataMapSnapshot,
  MapClient,
  MapFlow,
  MapSystem,
  MapTeam,
  Observation,
  ObservationKind,
} from '../packages/server/src/datamap/datamap.js';
import { DEFAULT_DATA_CATEGORIES } from '../packages/server/src/lib/taxonomy.js';
import { randomIndex, seededRandom } from './random.js';

export interface DataMapOptions {
  readonly systems: number;
  /** Declared flows, distinct (from, to) pairs with from ≠ to. */
  readonly flows: number;
  readonly teams: number;
  readonly seed: number;
  /** Epoch ms the observations are relative to; fixed by default so that runs compare. */
  readonly now?: number;
}

const SOURCES = ['prometheus-eu', 'prometheus-us'] as const;
const HOUR_MS = 3_600_000;
/** Leaf and inner keys below `user` and `system`: what fields and flows carry. */
const KEYS = DEFAULT_DATA_CATEGORIES.map((entry) => entry.key).filter((key) => key.includes('.'));

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * A synthetic data map, the same for the same options: `systems` declared systems spread over
 * `teams`, 3 fields each with 1-2 categories, `flows` declared flows with 1-3 categories, a rights
 * client per 50 systems, and observations from two sources: about half of the declared flows seen
 * (1 in 20 with an extra category), a twentieth as many undeclared flows, some of them to
 * discovered systems (`ext-NNNNN`, 1 per 50 systems), one store series per system (1 in 10 a
 * category its fields lack, 1 in 100 an unmapped data type) and a client series per 50 systems.
 * About 1 observation in 20 is stale.
 */
export function generateDataMap(options: DataMapOptions): DataMapSnapshot {
  const random = seededRandom(options.seed);
  const now = options.now ?? Date.UTC(2025, 0, 1);
  const pick = <T>(list: readonly T[]): T => list[randomIndex(random, list.length)] as T;
  const someKeys = (count: number): string[] => {
    const keys = new Set<string>();
    while (keys.size < count) keys.add(pick(KEYS));
    return [...keys];
  };

  const teams: MapTeam[] = Array.from({ length: options.teams }, (_, index) => ({
    name: `team-${pad(index, 4)}`,
    description: `Team ${index}`,
  }));
  const systemNames = Array.from({ length: options.systems }, (_, index) => `svc-${pad(index, 5)}`);
  const systems: MapSystem[] = systemNames.map((name, index) => ({
    name,
    team: teams[index % teams.length]?.name ?? 'team-0000',
    thirdParty: random() < 0.05,
    ...(random() < 0.5 ? { country: pick(['DE', 'FR', 'US', 'IE']) } : {}),
    fields: Array.from({ length: 3 }, (_, field) => ({
      field: `${name}-db.f${field}`,
      categories: someKeys(1 + randomIndex(random, 2)),
    })),
  }));

  const pairs = new Set<number>();
  const flows: MapFlow[] = [];
  const maxFlows = options.systems * (options.systems - 1);
  while (flows.length < Math.min(options.flows, maxFlows)) {
    const from = randomIndex(random, options.systems);
    const to = randomIndex(random, options.systems);
    if (from === to || pairs.has(from * options.systems + to)) continue;
    pairs.add(from * options.systems + to);
    flows.push({
      from: systemNames[from] as string,
      to: systemNames[to] as string,
      categories: someKeys(1 + randomIndex(random, 3)),
    });
  }

  const clients: MapClient[] = [];
  for (let index = 0; index < options.systems; index += 50) {
    clients.push({
      name: `rights-${pad(index, 5)}`,
      system: systemNames[index] as string,
      protocol: 'http',
      address: `https://rights-${pad(index, 5)}.internal/erase`,
    });
  }

  const teamByName = new Map(systems.map((system) => [system.name, system.team]));
  const observations: Observation[] = [];
  const observe = (kind: ObservationKind, team: string, system: string, target: string, dataType: string) => {
    const stale = random() < 0.05;
    const lastSeenAt = now - (stale ? 48 : randomIndex(random, 12)) * HOUR_MS;
    observations.push({
      source: pick(SOURCES),
      kind,
      team,
      system,
      target,
      dataType,
      protocol: kind === 'client' ? 'http' : '',
      category: dataType,
      firstSeenAt: lastSeenAt - 30 * 24 * HOUR_MS,
      lastSeenAt,
      stale,
    });
  };
  const discovered = Array.from(
    { length: Math.ceil(options.systems / 50) },
    (_, index) => `ext-${pad(index, 5)}`,
  );

  for (const flow of flows) {
    if (random() >= 0.5) continue;
    const team = teamByName.get(flow.from) ?? '';
    observe('transmit', team, flow.from, flow.to, pick(flow.categories));
    if (random() < 0.05) observe('transmit', team, flow.from, flow.to, pick(KEYS));
  }
  for (let index = 0; index < Math.ceil(flows.length / 20); index++) {
    const from = pick(systemNames);
    const to = random() < 0.2 ? pick(discovered) : pick(systemNames);
    if (from === to) continue;
    observe('transmit', teamByName.get(from) ?? '', from, to, pick(KEYS));
  }
  for (const system of systems) {
    const declared = system.fields.flatMap((field) => field.categories);
    const roll = random();
    const dataType =
      roll < 0.01 ? `legacy_type_${randomIndex(random, 5)}` : roll < 0.1 ? pick(KEYS) : pick(declared);
    observe('store', system.team, system.name, '', dataType);
  }
  for (const client of clients)
    observe('client', teamByName.get(client.system) ?? '', '', client.address ?? '', '');

  return { teams, systems, flows, clients, observations };
}
