import type { DataMapGraph, GraphEdge, GraphNode } from '@lethe/api';
import ELK, { type ElkExtendedEdge, type ElkNode, type ElkPoint } from 'elkjs/lib/elk-api.js';
// Emitted as a file of its own: the layout engine runs in a worker started from it.
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';

/**
 * Where each system, team box and flow of the map is drawn, computed by ELK's layered algorithm
 * (Eclipse Layout Kernel, `elkjs`): systems in layers along the direction data flows, teams as
 * boxes around their systems, and every flow routed orthogonally around the systems it does not
 * join, so a line is never drawn through a box it does not end at (issue 19: the old one-line
 * layout drew orders → warehouse through payments).
 *
 * Cytoscape's own layouts place nodes only; its edges are straight or curved between centres and
 * may cross other nodes. Here the routes ELK computed are handed to Cytoscape as explicit edge
 * segments (`map-view.tsx`).
 */

/** A system's box: its centre, size and team. */
export interface PlacedSystem {
  readonly id: string;
  readonly label: string;
  readonly team: string | undefined;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A flow's route: absolute points from the border of its source to the border of its target. */
export interface RoutedFlow {
  readonly edge: GraphEdge;
  readonly points: readonly ElkPoint[];
}

/** A team's box as ELK sized it: top-left corner and size. */
export interface PlacedTeam {
  readonly team: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface MapLayout {
  readonly teams: readonly PlacedTeam[];
  readonly systems: readonly PlacedSystem[];
  readonly flows: readonly RoutedFlow[];
}

const NODE_HEIGHT = 32;
/** Labels sit inside the boxes: the box is sized to the label so no line crosses a label either. */
const nodeWidth = (label: string) => Math.max(64, Math.round(label.length * 7.5) + 24);

/**
 * ELK runs in a Web Worker (elkjs's own worker build, same origin: the CSP's `script-src 'self'`
 * covers it): the layered layout of a map of thousands of flows takes seconds of CPU, which on
 * the main thread froze the page (no scrolling, no typing in the filters) until the map appeared.
 */
const elk = new ELK({ workerUrl: elkWorkerUrl });

/**
 * The systems and flows of `graph` (teams and categories are shown as boxes and in the panel), in
 * layers from left to right, or from top to bottom for a narrow screen (a phone's map is fitted to
 * its width: a tall layout keeps the labels readable).
 */
export async function layoutMap(
  graph: DataMapGraph,
  direction: 'RIGHT' | 'DOWN' = 'RIGHT',
): Promise<MapLayout> {
  const systems = graph.nodes.filter((node) => node.kind === 'system');
  const systemIds = new Set(systems.map((node) => node.id));
  const flows = graph.edges.filter(
    (edge) =>
      edge.kind === 'transmit' && systemIds.has(edge.from) && systemIds.has(edge.to) && edge.from !== edge.to,
  );

  const leaf = (node: GraphNode): ElkNode => ({
    id: node.id,
    width: nodeWidth(node.label),
    height: NODE_HEIGHT,
  });
  const byTeam = new Map<string, GraphNode[]>();
  const teamless: GraphNode[] = [];
  for (const node of systems) {
    if (node.team === undefined) teamless.push(node);
    else byTeam.set(node.team, [...(byTeam.get(node.team) ?? []), node]);
  }
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      // One layout over the team boxes and their systems: flows between teams are routed too.
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '28',
      'elk.layered.spacing.nodeNodeBetweenLayers': '56',
      'elk.spacing.edgeNode': '16',
      'elk.spacing.edgeEdge': '10',
      'elk.layered.spacing.edgeNodeBetweenLayers': '20',
    },
    children: [
      ...[...byTeam].map(([team, members]): ElkNode => ({
        id: `team:${team}`,
        // Room at the top for the team's name.
        layoutOptions: { 'elk.padding': '[top=30,left=16,bottom=16,right=16]' },
        children: members.map(leaf),
      })),
      ...teamless.map(leaf),
    ],
    edges: flows.map((edge, index): ElkExtendedEdge => ({
      id: `flow${index}`,
      sources: [edge.from],
      targets: [edge.to],
    })),
  };

  const laid = await elk.layout(root);

  // Child coordinates are relative to their parent; edge coordinates to the edge's container.
  const offsets = new Map<string, ElkPoint>([['root', { x: 0, y: 0 }]]);
  const placed: PlacedSystem[] = [];
  const teams: PlacedTeam[] = [];
  const visit = (node: ElkNode, origin: ElkPoint, team: string | undefined) => {
    const x = origin.x + (node.x ?? 0);
    const y = origin.y + (node.y ?? 0);
    offsets.set(node.id, { x, y });
    if (node.children?.length) {
      teams.push({
        team: node.id.replace(/^team:/, ''),
        x,
        y,
        width: node.width ?? 0,
        height: node.height ?? 0,
      });
      for (const child of node.children) visit(child, { x, y }, node.id.replace(/^team:/, ''));
      return;
    }
    const source = systems.find((system) => system.id === node.id);
    if (!source) return;
    const width = node.width ?? 0;
    const height = node.height ?? 0;
    placed.push({
      id: node.id,
      label: source.label,
      team,
      x: x + width / 2,
      y: y + height / 2,
      width,
      height,
    });
  };
  for (const child of laid.children ?? []) visit(child, { x: 0, y: 0 }, undefined);

  const routed: RoutedFlow[] = (laid.edges ?? []).map((laidEdge, index) => {
    const origin = offsets.get(
      (laidEdge as ElkExtendedEdge & { container?: string }).container ?? 'root',
    ) ?? {
      x: 0,
      y: 0,
    };
    const points: ElkPoint[] = [];
    for (const section of laidEdge.sections ?? []) {
      for (const point of [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]) {
        points.push({ x: origin.x + point.x, y: origin.y + point.y });
      }
    }
    return { edge: flows[index] as GraphEdge, points };
  });
  return { teams, systems: placed, flows: routed };
}
