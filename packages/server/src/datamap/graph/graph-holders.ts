import { byCodeUnit } from '../../lib/by-code-unit.js';
import type { EdgeEntry, NodeEntry } from './graph-entries.js';
import { carried, pathTo, reachFrom } from './graph-reach.js';

/**
 * A system that holds a category. `stores`: it stores a covered key (it may also receive one).
 * `receives`: a transmit edge carrying a covered key reaches it. `sends`: it sends a covered key
 * but neither stores nor receives one (where the data enters the map, e.g. a front end).
 */
export interface Holder {
  readonly system: string;
  readonly team?: string;
  readonly how: 'stores' | 'receives' | 'sends';
  /** Covered keys it stores, receives or sends, sorted. */
  readonly categories: string[];
  /**
   * The shortest path of system names from a storing (or sending) system to this one, both ends
   * included; `[system]` for `stores` and `sends`. A cycle that no storing or sending system reaches
   * starts at its alphabetically first member, whose `via` is then `[system]`.
   */
  readonly via: string[];
}

/** The systems holding a `covered` key, found through the category index; sorted by system name. */
export function findHolders(
  byCategory: ReadonlyMap<string, readonly EdgeEntry[]>,
  covered: ReadonlySet<string>,
  includeStale: boolean,
): Holder[] {
  const held = new Map<NodeEntry, Set<string>>();
  const hold = (entry: NodeEntry, keys: readonly string[]): void => {
    const set = held.get(entry) ?? new Set<string>();
    for (const key of keys) set.add(key);
    held.set(entry, set);
  };
  const storing = new Set<NodeEntry>();
  const sending = new Set<NodeEntry>();
  const receiving = new Set<NodeEntry>();
  const seen = new Set<EdgeEntry>();
  for (const key of covered) {
    for (const edge of byCategory.get(key) ?? []) {
      if (seen.has(edge)) continue;
      seen.add(edge);
      const keys = carried(edge, includeStale, covered);
      if (!keys) continue;
      if (edge.kind === 'store') {
        storing.add(edge.from);
        hold(edge.from, keys);
      } else {
        sending.add(edge.from);
        receiving.add(edge.to);
        hold(edge.from, keys);
        hold(edge.to, keys);
      }
    }
  }
  const byOrder = (a: NodeEntry, b: NodeEntry): number => a.order - b.order;
  const roots = [...storing, ...[...sending].filter((entry) => !storing.has(entry) && !receiving.has(entry))];
  const parents = reachFrom(roots.sort(byOrder), includeStale, covered);
  // Cycles no storing or sending system reaches: start at their first member.
  for (const entry of [...receiving].sort(byOrder)) {
    if (!parents.has(entry)) reachFrom([entry], includeStale, covered, parents);
  }

  const holders: Holder[] = [];
  for (const [entry, keys] of held) {
    const how = storing.has(entry) ? 'stores' : receiving.has(entry) ? 'receives' : 'sends';
    holders.push({
      system: entry.name,
      ...(entry.team !== undefined ? { team: entry.team } : {}),
      how,
      categories: [...keys].sort(byCodeUnit),
      via: how === 'receives' ? pathTo(entry, parents) : [entry.name],
    });
  }
  return holders.sort((a, b) => byCodeUnit(a.system, b.system));
}
