import type { DataMapGraph } from '@lethe/api';

/**
 * The JSON text of the index's wire objects, made once per object and joined per answer.
 *
 * A graph answer is a list of nodes and edges the index already holds as immutable wire objects
 * (`DataMapIndex`); only edges reduced to some of their categories are new per answer. Serialising
 * an answer of megabytes with `JSON.stringify` walked every object again on every request (the
 * largest cost after the filter in the profile of `bench:datamap`); here each wire object is
 * serialised the first time an answer holds it and the answer is the join of those texts. The
 * texts live as long as their wire objects (a WeakMap), i.e. as long as the index.
 */
export class WireJson {
  readonly #texts = new WeakMap<object, string>();

  of(wire: object): string {
    let text = this.#texts.get(wire);
    if (text === undefined) {
      text = JSON.stringify(wire);
      this.#texts.set(wire, text);
    }
    return text;
  }

  /** `JSON.stringify(graph)`, byte for byte, from the texts of its parts. */
  graph(graph: DataMapGraph, extra?: Record<string, unknown>): string {
    const nodes = graph.nodes.map((node) => this.of(node)).join(',');
    const edges = graph.edges.map((edge) => this.of(edge)).join(',');
    const tail = extra ? JSON.stringify(extra).slice(1, -1) : '';
    return `{"nodes":[${nodes}],"edges":[${edges}]${tail ? `,${tail}` : ''}}`;
  }
}
