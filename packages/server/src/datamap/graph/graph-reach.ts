import type { EdgeEntry, NodeEntry } from './graph-entries.js';
import type { Provenance } from './graph-provenance.js';

/**
 * Breadth-first over transmit edges carrying a covered key (any key without `covered`), from all
 * roots at once. Maps each reached system to the edge it was first reached over (null for roots).
 */
export function reachFrom(
  roots: readonly NodeEntry[],
  includeStale: boolean,
  covered: ReadonlySet<string> | undefined,
  parents = new Map<NodeEntry, EdgeEntry | null>(),
): Map<NodeEntry, EdgeEntry | null> {
  const queue: NodeEntry[] = [];
  for (const root of roots) {
    if (parents.has(root)) continue;
    parents.set(root, null);
    queue.push(root);
  }
  for (let head = 0; head < queue.length; head++) {
    const entry = queue[head] as NodeEntry;
    for (const edge of entry.sends) {
      if (parents.has(edge.to) || (!includeStale && edge.to.stale)) continue;
      if (!carried(edge, includeStale, covered)) continue;
      parents.set(edge.to, edge);
      queue.push(edge.to);
    }
  }
  return parents;
}

/**
 * The keys of `edge` that are visible and covered (all visible keys, `''` included, without
 * `covered`); undefined when none.
 */
export function carried(
  edge: EdgeEntry,
  includeStale: boolean,
  covered: ReadonlySet<string> | undefined,
): string[] | undefined {
  const keys: string[] = [];
  for (let index = 0; index < edge.keys.length; index++) {
    const key = edge.keys[index] as string;
    if (covered && !covered.has(key)) continue;
    if (!includeStale && (edge.provs[index] as Provenance).stale) continue;
    keys.push(key);
  }
  return keys.length === 0 ? undefined : keys;
}

/** System names from the root of `entry`'s BFS tree to `entry`. */
export function pathTo(entry: NodeEntry, parents: ReadonlyMap<NodeEntry, EdgeEntry | null>): string[] {
  const path: string[] = [];
  for (let at: NodeEntry | undefined = entry; at;) {
    path.push(at.name);
    const edge: EdgeEntry | null | undefined = parents.get(at);
    at = edge ? edge.from : undefined;
  }
  return path.reverse();
}
