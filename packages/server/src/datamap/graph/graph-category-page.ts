import type { DataMapGraph, GraphEdge } from '@lethe/api';
import type { CategoryRule } from './graph-category.js';
import type { EdgeEntry, NodeEntry } from './graph-entries.js';
import { edgeCursor, positionAfter, type EdgeCursor } from './graph-page.js';

/**
 * One page of the category filter's answer read straight off the index: the edge list is in answer
 * order, so the page starts at the cursor (binary search) and decides edges one by one until it
 * has `limit` of them, then only looks for one more to know whether a `next` exists. Nothing
 * before the cursor is read and nothing after the page is made. The same page as `pageOf` cut from
 * `categoryGraph` (every node of a category answer is an end of one of its edges or a category a
 * kept flow carries, so no node is left for the first page alone).
 */
export function categoryPage(rule: CategoryRule, limit: number, after: EdgeCursor | undefined): DataMapGraph {
  const { edgeList, nodeList } = rule.tables;
  const edgeAt = (position: number): EdgeEntry => edgeList[position] as EdgeEntry;
  let position = after
    ? positionAfter(
        edgeList.length,
        (at) => {
          const edge = edgeAt(at);
          return { kind: edge.kind, from: edge.from.id, to: edge.to.id };
        },
        after,
      )
    : 0;
  const edges: GraphEdge[] = [];
  const touched = new Set<NodeEntry>();
  for (; position < edgeList.length && edges.length < limit; position++) {
    const edge = edgeAt(position);
    if (!rule.keeps(edge)) continue;
    edges.push(rule.wire(edge));
    touched.add(edge.from).add(edge.to);
    for (const node of rule.categoryNodes(edge)) touched.add(node);
  }
  let more = false;
  for (; position < edgeList.length && !more; position++) more = rule.keeps(edgeAt(position));
  const orders = Float64Array.from(touched, (entry) => entry.order).sort();
  const nodes = Array.from(orders, (order) => (nodeList[order] as NodeEntry).wire);
  const last = edges[edges.length - 1];
  return more && last ? { nodes, edges, next: edgeCursor(last) } : { nodes, edges };
}
