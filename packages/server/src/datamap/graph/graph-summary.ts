import type { DataMapGraph, DataMapGraphSummary } from '@lethe/api';
import { byCodeUnit } from '../../lib/by-code-unit.js';

/**
 * A graph answer counted instead of listed (`?summary=true`): nodes and edges by kind, kept edges
 * per category key, and flows between teams. A few KiB where the list is megabytes (`category=user`
 * keeps nearly the whole map), and the overview a reader of a large map starts from.
 */
/** Team pairs listed in a summary: the largest; `teamPairs` says how many there are. */
export const SUMMARY_TEAM_PAIRS = 100;

export function summarizeGraph(graph: DataMapGraph): DataMapGraphSummary {
  const nodes = { team: 0, system: 0, category: 0, client: 0 };
  const teamOf = new Map<string, string | undefined>();
  for (const node of graph.nodes) {
    nodes[node.kind] += 1;
    if (node.kind === 'system') teamOf.set(node.id, node.team);
  }
  const edges = { owns: 0, store: 0, transmit: 0, client: 0 };
  const perKey = new Map<string, number>();
  // Team names cannot hold a newline; an empty side is a system without team.
  const perTeams = new Map<string, number>();
  for (const edge of graph.edges) {
    edges[edge.kind] += 1;
    if (edge.kind === 'store' || edge.kind === 'transmit') {
      for (const key of edge.categories) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    if (edge.kind === 'transmit') {
      const pair = `${teamOf.get(edge.from) ?? ''}\n${teamOf.get(edge.to) ?? ''}`;
      perTeams.set(pair, (perTeams.get(pair) ?? 0) + 1);
    }
  }
  const categories = [...perKey]
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([key, count]) => ({ key, edges: count }));
  const teamFlows = [...perTeams]
    .sort(([pairA, a], [pairB, b]) => b - a || byCodeUnit(pairA, pairB))
    .slice(0, SUMMARY_TEAM_PAIRS)
    .map(([pair, flows]) => {
      const [fromTeam, toTeam] = pair.split('\n') as [string, string];
      return { ...(fromTeam ? { fromTeam } : {}), ...(toTeam ? { toTeam } : {}), flows };
    });
  return { nodes, edges, categories, teamPairs: perTeams.size, teamFlows };
}
