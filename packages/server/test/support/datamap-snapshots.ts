import type { DataMapSnapshot, MapSystem, Observation } from '../../src/datamap/datamap.js';

/** Small data map snapshots for the data map index's unit tests. */

export const T0 = Date.UTC(2025, 0, 1);

export function system(name: string, team: string, fieldCategories: string[][] = []): MapSystem {
  return {
    name,
    team,
    thirdParty: false,
    fields: fieldCategories.map((keys, index) => ({ field: `${name}_db.f${index}`, categories: keys })),
  };
}

export function observation(partial: Partial<Observation> & Pick<Observation, 'kind'>): Observation {
  return {
    source: 'prom',
    team: '',
    system: '',
    target: '',
    dataType: partial.category ?? '',
    protocol: '',
    category: '',
    firstSeenAt: T0 - 1000,
    lastSeenAt: T0,
    stale: false,
    ...partial,
  };
}

export function snapshot(partial: Partial<DataMapSnapshot>): DataMapSnapshot {
  return { teams: [], systems: [], flows: [], clients: [], observations: [], ...partial };
}

/** a stores X; a → b → c → a (cycle), b → d, c → e; f → g (f neither stores nor receives). */
export function chain(): DataMapSnapshot {
  const x = 'user.contact.email';
  return snapshot({
    systems: [
      system('a', 't', [[x]]),
      ...['b', 'c', 'd', 'e', 'f', 'g', 'h'].map((name) => system(name, 't')),
    ],
    flows: [
      { from: 'a', to: 'b', categories: [x] },
      { from: 'b', to: 'c', categories: [x] },
      { from: 'c', to: 'a', categories: [x] },
      { from: 'b', to: 'd', categories: ['user.contact.phone_number'] },
      { from: 'c', to: 'e', categories: [x, 'user.name'] },
      { from: 'a', to: 'e', categories: ['user.name'] },
      { from: 'f', to: 'g', categories: [x] },
      { from: 'e', to: 'h', categories: ['user.name'] },
    ],
  });
}
