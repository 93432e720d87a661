import type { GraphEdge } from '@lethe/api';
import { byCodeUnit } from '../../lib/by-code-unit.js';
import { NO_CATEGORY, type EdgeEntry } from './graph-entries.js';
import { DECLARED, Provenance } from './graph-provenance.js';
import { toIso } from '../../lib/time.js';

const DECLARED_ONLY = [DECLARED];

/**
 * Makes the wire objects, sharing the arrays and strings many of them hold (the same `sources`,
 * the same instants): an index of 50,000 flows makes ~80,000 edges.
 */
export class Wiring {
  readonly #sources = new Map<string, string[]>();
  readonly #instants = new Map<number, string>();

  provenance(prov: Provenance): { sources: string[]; lastSeenAt?: string; stale: boolean } {
    let sources: string[];
    if (prov.sources.length === 0) sources = prov.declared ? DECLARED_ONLY : [];
    else {
      const key = prov.declared ? `${prov.sources.join('\n')}\n` : prov.sources.join('\n');
      let shared = this.#sources.get(key);
      if (!shared) {
        shared = prov.declared ? [...prov.sources, DECLARED] : [...prov.sources];
        shared.sort(byCodeUnit);
        this.#sources.set(key, shared);
      }
      sources = shared;
    }
    if (!Number.isFinite(prov.lastSeenAt)) return { sources, stale: prov.stale };
    let lastSeenAt = this.#instants.get(prov.lastSeenAt);
    if (lastSeenAt === undefined) {
      lastSeenAt = toIso(prov.lastSeenAt);
      this.#instants.set(prov.lastSeenAt, lastSeenAt);
    }
    return { sources, lastSeenAt, stale: prov.stale };
  }

  /** The wire edge of the parts at `indexes` (all of them when undefined). */
  edge(edge: EdgeEntry, indexes?: readonly number[]): GraphEdge {
    let categories: string[];
    let prov: Provenance;
    if (indexes === undefined) {
      categories = edge.keys[0] === NO_CATEGORY ? edge.keys.slice(1) : edge.keys;
      prov = edge.provs.length === 1 ? (edge.provs[0] as Provenance) : Provenance.merge(edge.provs);
    } else {
      categories = [];
      const provs: Provenance[] = [];
      for (const index of indexes) {
        const key = edge.keys[index] as string;
        if (key !== NO_CATEGORY) categories.push(key);
        provs.push(edge.provs[index] as Provenance);
      }
      prov = provs.length === 1 ? (provs[0] as Provenance) : Provenance.merge(provs);
    }
    const { sources, lastSeenAt, stale } = this.provenance(prov);
    return lastSeenAt === undefined
      ? { from: edge.from.id, to: edge.to.id, kind: edge.kind, categories, sources, stale }
      : { from: edge.from.id, to: edge.to.id, kind: edge.kind, categories, sources, lastSeenAt, stale };
  }
}
