import type { DataMapSnapshot, Observation, UsageLink } from './datamap.js';
import type { Taxonomy } from '../lib/taxonomy.js';
import { byCodeUnit } from '../lib/by-code-unit.js';

/**
 * Drift: where what was declared and what telemetry and discovery report disagree.
 *
 *   undeclaredUses        telemetry shows a system using a field another system declared (`owner`),
 *                         or that no system declared (no `owner`); links aggregated per (system, field).
 *                         The owner is the system whose datasets declare that exact `dataset.field`.
 *   unobservedFlows       declared flows no discovery source saw, or saw only in stale observations
 *                         (then with their sources and lastSeenAt). Only when `observing`: with no
 *                         observation at all nothing could have been seen, and the list is empty.
 *   undeclaredFlows       observed transmit pairs (from, to) with no declared flow.
 *   undeclaredCategories  observed transmit pairs with a declared flow, where the observations carry
 *                         categories no declared category covers (`user.contact` covers
 *                         `user.contact.email`); `categories` are the uncovered ones, next to the
 *                         flow's `declaredCategories`. A separate list from undeclaredFlows.
 *   undeclaredStores      observed (system, category) stores where the system is not declared, or none
 *                         of its fields has a category covering the observed one.
 *   unknownSystems        names observed as `service` or `to_service` that no system declares.
 *
 * Stale observations are ignored, except that they show when a declared flow was last seen.
 * Times are epoch ms. Every list is sorted by its key fields, code-unit order.
 */
export interface Drift {
  /** At least one observation exists: some discovery source has reported. */
  readonly observing: boolean;
  readonly undeclaredUses: UndeclaredUse[];
  readonly unobservedFlows: UnobservedFlow[];
  readonly undeclaredFlows: ObservedFlow[];
  readonly undeclaredCategories: UndeclaredFlowCategories[];
  readonly undeclaredStores: UndeclaredStore[];
  readonly unknownSystems: UnknownSystem[];
}

export interface UndeclaredUse {
  readonly system: string;
  readonly field: string;
  /** The system that declared the field; absent when none did. */
  readonly owner?: string;
  readonly policies: string[];
  readonly lastUseAt: number;
  readonly count: number;
}

export interface UnobservedFlow {
  readonly from: string;
  readonly to: string;
  readonly categories: string[];
  /** Sources whose stale observations are all that was seen of it; empty when never seen. */
  readonly sources: string[];
  readonly lastSeenAt?: number;
}

export interface ObservedFlow {
  readonly from: string;
  readonly to: string;
  /** Observed categories (data types' keys), sorted. */
  readonly categories: string[];
  readonly sources: string[];
  readonly lastSeenAt: number;
}

export interface UndeclaredFlowCategories extends ObservedFlow {
  readonly declaredCategories: string[];
}

export interface UndeclaredStore {
  readonly system: string;
  readonly category: string;
  readonly systemDeclared: boolean;
  /** The category is not a taxonomy key (e.g. an unmapped data type). */
  readonly unknownCategory: boolean;
  readonly sources: string[];
  readonly lastSeenAt: number;
}

export interface UnknownSystem {
  readonly name: string;
  /** Team labels on the series it was the `service` of. */
  readonly teams: string[];
  readonly sources: string[];
  readonly lastSeenAt: number;
}

function sorted(values: Iterable<string>): string[] {
  return [...values].sort(byCodeUnit);
}

/** Observations of one thing, merged. */
class Seen {
  readonly sources = new Set<string>();
  readonly categories = new Set<string>();
  readonly teams = new Set<string>();
  lastSeenAt = -Infinity;

  add(observation: Observation): this {
    this.sources.add(observation.source);
    if (observation.category !== '') this.categories.add(observation.category);
    if (observation.lastSeenAt > this.lastSeenAt) this.lastSeenAt = observation.lastSeenAt;
    return this;
  }
}

function seenIn<K>(map: Map<K, Seen>, key: K): Seen {
  let seen = map.get(key);
  if (!seen) {
    seen = new Seen();
    map.set(key, seen);
  }
  return seen;
}

const pairKey = (from: string, to: string): string => `${from}\u0000${to}`;

/** The declared side of the map, indexed for the comparisons. */
interface Declarations {
  readonly systems: ReadonlySet<string>;
  /** `dataset.field` → the system whose datasets declare it (the first one, should two). */
  readonly fieldOwner: ReadonlyMap<string, string>;
  /** System → every category its fields declare. */
  readonly fieldCategories: ReadonlyMap<string, ReadonlySet<string>>;
  /** Declared flows merged per (from, to) pair, keyed by `pairKey`. */
  readonly flows: ReadonlyMap<string, DeclaredFlow>;
}

interface DeclaredFlow {
  readonly from: string;
  readonly to: string;
  readonly categories: Set<string>;
}

/** The non-client observations merged per thing they are about. */
interface Observed {
  /** Fresh transmit observations per (from, to). */
  readonly transmits: Map<string, Seen>;
  /** Stale transmit observations per (from, to): they only tell when a declared flow was last seen. */
  readonly staleTransmits: Map<string, Seen>;
  /** Fresh store observations per (system, category). */
  readonly stores: Map<string, Seen>;
  /** Undeclared systems seen as `service` or `to_service`. */
  readonly unknown: Map<string, Seen>;
}

export function findDrift(
  snapshot: DataMapSnapshot,
  usageLinks: readonly UsageLink[],
  categories: Taxonomy,
): Drift {
  const declared = indexDeclarations(snapshot);
  const observed = collectObservations(snapshot, declared.systems);
  const observing = snapshot.observations.length > 0;
  const unobservedFlows = observing ? findUnobservedFlows(declared.flows, observed) : [];
  const { undeclaredFlows, undeclaredCategories } = compareTransmits(
    observed.transmits,
    declared.flows,
    categories,
  );
  const undeclaredStores = findUndeclaredStores(observed.stores, declared, categories);
  const unknownSystems = [...observed.unknown].map(([name, seen]): UnknownSystem => ({
    name,
    teams: sorted(seen.teams),
    sources: sorted(seen.sources),
    lastSeenAt: seen.lastSeenAt,
  }));

  const byPair = (a: { from: string; to: string }, b: { from: string; to: string }): number =>
    byCodeUnit(a.from, b.from) || byCodeUnit(a.to, b.to);
  return {
    observing,
    undeclaredUses: findUndeclaredUses(usageLinks, declared.fieldOwner),
    unobservedFlows: unobservedFlows.sort(byPair),
    undeclaredFlows: undeclaredFlows.sort(byPair),
    undeclaredCategories: undeclaredCategories.sort(byPair),
    undeclaredStores: undeclaredStores.sort(
      (a, b) => byCodeUnit(a.system, b.system) || byCodeUnit(a.category, b.category),
    ),
    unknownSystems: unknownSystems.sort((a, b) => byCodeUnit(a.name, b.name)),
  };
}

function indexDeclarations(snapshot: DataMapSnapshot): Declarations {
  const systems = new Set(snapshot.systems.map((system) => system.name));
  const fieldOwner = new Map<string, string>();
  const fieldCategories = new Map<string, Set<string>>();
  for (const system of snapshot.systems) {
    const keys = new Set<string>();
    for (const field of system.fields) {
      if (!fieldOwner.has(field.field)) fieldOwner.set(field.field, system.name);
      for (const key of field.categories) keys.add(key);
    }
    fieldCategories.set(system.name, keys);
  }
  const flows = new Map<string, DeclaredFlow>();
  for (const flow of snapshot.flows) {
    const key = pairKey(flow.from, flow.to);
    const entry = flows.get(key) ?? { from: flow.from, to: flow.to, categories: new Set<string>() };
    for (const category of flow.categories) entry.categories.add(category);
    flows.set(key, entry);
  }
  return { systems, fieldOwner, fieldCategories, flows };
}

/** Some declared category covers `key`. */
function covered(categories: Taxonomy, declared: Iterable<string>, key: string): boolean {
  for (const filter of declared) if (categories.covers(filter, key)) return true;
  return false;
}

/** Telemetry: fields used by a system other than the one declaring them. */
function findUndeclaredUses(
  usageLinks: readonly UsageLink[],
  fieldOwner: ReadonlyMap<string, string>,
): UndeclaredUse[] {
  const uses = new Map<
    string,
    { system: string; field: string; policies: Set<string>; lastUseAt: number; count: number }
  >();
  for (const link of usageLinks) {
    if (fieldOwner.get(link.field) === link.system) continue;
    const key = pairKey(link.system, link.field);
    let use = uses.get(key);
    if (!use) {
      use = { system: link.system, field: link.field, policies: new Set(), lastUseAt: -Infinity, count: 0 };
      uses.set(key, use);
    }
    use.policies.add(link.policy);
    use.lastUseAt = Math.max(use.lastUseAt, link.lastUseAt);
    use.count += link.count;
  }
  return [...uses.values()]
    .sort((a, b) => byCodeUnit(a.system, b.system) || byCodeUnit(a.field, b.field))
    .map((use): UndeclaredUse => {
      const owner = fieldOwner.get(use.field);
      return {
        system: use.system,
        field: use.field,
        ...(owner !== undefined ? { owner } : {}),
        policies: sorted(use.policies),
        lastUseAt: use.lastUseAt,
        count: use.count,
      };
    });
}

/** Discovery: the observations merged per transmit pair, store and unknown system. */
function collectObservations(snapshot: DataMapSnapshot, declaredSystems: ReadonlySet<string>): Observed {
  const observed: Observed = {
    transmits: new Map(),
    staleTransmits: new Map(),
    stores: new Map(),
    unknown: new Map(),
  };
  const { transmits, staleTransmits, stores, unknown } = observed;
  for (const observation of snapshot.observations) {
    const { kind, system, target } = observation;
    if (kind === 'client' || system === '' || (kind === 'transmit' && target === '')) continue;
    if (observation.stale) {
      if (kind === 'transmit') seenIn(staleTransmits, pairKey(system, target)).add(observation);
      continue;
    }
    if (!declaredSystems.has(system)) {
      const seen = seenIn(unknown, system);
      seen.sources.add(observation.source);
      seen.lastSeenAt = Math.max(seen.lastSeenAt, observation.lastSeenAt);
      if (observation.team !== '') seen.teams.add(observation.team);
    }
    if (kind === 'transmit') {
      seenIn(transmits, pairKey(system, target)).add(observation);
      if (!declaredSystems.has(target)) {
        const seen = seenIn(unknown, target);
        seen.sources.add(observation.source);
        seen.lastSeenAt = Math.max(seen.lastSeenAt, observation.lastSeenAt);
      }
    } else if (observation.category !== '') {
      seenIn(stores, pairKey(system, observation.category)).add(observation);
    }
  }
  return observed;
}

/** Declared flows with no fresh transmit observation, with what stale ones said of them. */
function findUnobservedFlows(
  declaredFlows: ReadonlyMap<string, DeclaredFlow>,
  observed: Observed,
): UnobservedFlow[] {
  const unobservedFlows: UnobservedFlow[] = [];
  for (const [key, flow] of declaredFlows) {
    if (observed.transmits.has(key)) continue;
    const stale = observed.staleTransmits.get(key);
    unobservedFlows.push({
      from: flow.from,
      to: flow.to,
      categories: sorted(flow.categories),
      sources: stale ? sorted(stale.sources) : [],
      ...(stale ? { lastSeenAt: stale.lastSeenAt } : {}),
    });
  }
  return unobservedFlows;
}

/** Observed transmit pairs without a declared flow, or carrying categories the declared flow does not cover. */
function compareTransmits(
  transmits: ReadonlyMap<string, Seen>,
  declaredFlows: ReadonlyMap<string, DeclaredFlow>,
  categories: Taxonomy,
): { undeclaredFlows: ObservedFlow[]; undeclaredCategories: UndeclaredFlowCategories[] } {
  const undeclaredFlows: ObservedFlow[] = [];
  const undeclaredCategories: UndeclaredFlowCategories[] = [];
  for (const [key, seen] of transmits) {
    const [from, to] = key.split('\u0000') as [string, string];
    const flow = { from, to, sources: sorted(seen.sources), lastSeenAt: seen.lastSeenAt };
    const declared = declaredFlows.get(key);
    if (!declared) {
      undeclaredFlows.push({ ...flow, categories: sorted(seen.categories) });
      continue;
    }
    const extra = [...seen.categories].filter(
      (category) => !covered(categories, declared.categories, category),
    );
    if (extra.length > 0) {
      undeclaredCategories.push({
        ...flow,
        categories: sorted(extra),
        declaredCategories: sorted(declared.categories),
      });
    }
  }
  return { undeclaredFlows, undeclaredCategories };
}

/** Observed stores on an undeclared system, or of a category none of the system's fields covers. */
function findUndeclaredStores(
  stores: ReadonlyMap<string, Seen>,
  declared: Declarations,
  categories: Taxonomy,
): UndeclaredStore[] {
  const undeclaredStores: UndeclaredStore[] = [];
  for (const [key, seen] of stores) {
    const [system, category] = key.split('\u0000') as [string, string];
    const systemDeclared = declared.systems.has(system);
    if (systemDeclared && covered(categories, declared.fieldCategories.get(system) ?? [], category)) continue;
    undeclaredStores.push({
      system,
      category,
      systemDeclared,
      unknownCategory: !categories.has(category),
      sources: sorted(seen.sources),
      lastSeenAt: seen.lastSeenAt,
    });
  }
  return undeclaredStores;
}
