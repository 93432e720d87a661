import { byCodeUnit } from '../../lib/by-code-unit.js';
import { NO_CATEGORY, type NodeEntry } from './graph-entries.js';
import { carried, pathTo, reachFrom } from './graph-reach.js';

export interface Destination {
  readonly system: string;
  readonly team?: string;
  /** Shortest path of system names from the origin to this system, both included. */
  readonly path: string[];
  /** Hops from the origin (`path.length - 1`). */
  readonly depth: number;
  /** The (covered) categories on the last hop, sorted. */
  readonly categories: string[];
}

/**
 * Where `start` sends a `covered` key (any key without `covered`), transitively, by depth and then
 * name.
 */
export function findDestinations(
  start: NodeEntry,
  covered: ReadonlySet<string> | undefined,
  includeStale: boolean,
): Destination[] {
  const parents = reachFrom([start], includeStale, covered);
  const destinations: Destination[] = [];
  for (const [entry, edge] of parents) {
    if (!edge) continue;
    const path = pathTo(entry, parents);
    destinations.push({
      system: entry.name,
      ...(entry.team !== undefined ? { team: entry.team } : {}),
      path,
      depth: path.length - 1,
      categories: (carried(edge, includeStale, covered) ?? []).filter((key) => key !== NO_CATEGORY),
    });
  }
  return destinations.sort((a, b) => a.depth - b.depth || byCodeUnit(a.system, b.system));
}
