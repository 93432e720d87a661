import type { DataMapGraph, DataMapGraphSummary, GraphEdge, GraphNode } from '@lethe/api';
import { byCodeUnit } from '../../lib/by-code-unit.js';

/** Team pairs listed in a summary: the largest; `teamPairs` says how many there are. */
export const SUMMARY_TEAM_PAIRS = 100;

/**
 * A graph answer counted instead of listed (`?summary=true`): nodes and edges by kind, kept edges
 * per category key, and flows between teams. A few KiB where the list is megabytes (`category=user`
 * keeps nearly the whole map), and the overview a reader of a large map starts from.
 *
 * Counted one node and one edge at a time from an answer already made (`summarizeGraph`). The
 * category filter alone is counted off the index without making the answer (`categorySummary`,
 * graph-category-summary.ts), to the same result.
 */
export class SummaryCounter {
  readonly #nodes = { team: 0, system: 0, category: 0, client: 0 };
  readonly #edges = { owns: 0, store: 0, transmit: 0, client: 0 };
  readonly #perKey = new Map<string, number>();
  // Team names cannot hold a newline; an empty side is a system without team.
  readonly #perTeams = new Map<string, number>();

  node(kind: GraphNode['kind']): void {
    this.#nodes[kind] += 1;
  }

  /** An edge with the categories it keeps; a transmit edge with its ends' teams. */
  edge(
    kind: GraphEdge['kind'],
    categories: Iterable<string>,
    fromTeam: string | undefined,
    toTeam: string | undefined,
  ): void {
    this.#edges[kind] += 1;
    if (kind === 'store' || kind === 'transmit') {
      for (const key of categories) this.#perKey.set(key, (this.#perKey.get(key) ?? 0) + 1);
    }
    if (kind === 'transmit') {
      const pair = `${fromTeam ?? ''}\n${toTeam ?? ''}`;
      this.#perTeams.set(pair, (this.#perTeams.get(pair) ?? 0) + 1);
    }
  }

  summary(): DataMapGraphSummary {
    const categories = [...this.#perKey]
      .sort(([a], [b]) => byCodeUnit(a, b))
      .map(([key, count]) => ({ key, edges: count }));
    const teamFlows = [...this.#perTeams]
      .sort(([pairA, a], [pairB, b]) => b - a || byCodeUnit(pairA, pairB))
      .slice(0, SUMMARY_TEAM_PAIRS)
      .map(([pair, flows]) => {
        const [fromTeam, toTeam] = pair.split('\n') as [string, string];
        return { ...(fromTeam ? { fromTeam } : {}), ...(toTeam ? { toTeam } : {}), flows };
      });
    return {
      nodes: { ...this.#nodes },
      edges: { ...this.#edges },
      categories,
      teamPairs: this.#perTeams.size,
      teamFlows,
    };
  }
}

/** The summary of an answer already made (a team or system filter, a category-limited token). */
export function summarizeGraph(graph: DataMapGraph): DataMapGraphSummary {
  const counter = new SummaryCounter();
  const teamOf = new Map<string, string | undefined>();
  for (const node of graph.nodes) {
    counter.node(node.kind);
    if (node.kind === 'system') teamOf.set(node.id, node.team);
  }
  for (const edge of graph.edges) {
    counter.edge(edge.kind, edge.categories, teamOf.get(edge.from), teamOf.get(edge.to));
  }
  return counter.summary();
}
