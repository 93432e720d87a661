import type { Observation } from '../datamap.js';

/** The source name of a declaration, next to the names of the sources that observed something. */
export const DECLARED = 'declared';

const NONE: readonly string[] = Object.freeze([]);

/** Where a node or an edge part comes from: declared, observed by which sources, when, stale or not. */
export class Provenance {
  declared = false;
  /** Names of the sources that observed it, in first-seen order (few: a linear search is cheapest). */
  sources: readonly string[] = NONE;
  lastSeenAt = -Infinity;
  /** Observations that are not stale. */
  fresh = 0;

  observe(observation: Observation): void {
    this.addSource(observation.source);
    if (observation.lastSeenAt > this.lastSeenAt) this.lastSeenAt = observation.lastSeenAt;
    if (!observation.stale) this.fresh += 1;
  }

  addSource(source: string): void {
    if (!this.sources.includes(source)) this.sources = [...this.sources, source];
  }

  get stale(): boolean {
    return !this.declared && this.fresh === 0;
  }

  static merge(parts: readonly Provenance[]): Provenance {
    const merged = new Provenance();
    for (const part of parts) {
      merged.declared ||= part.declared;
      for (const source of part.sources) merged.addSource(source);
      if (part.lastSeenAt > merged.lastSeenAt) merged.lastSeenAt = part.lastSeenAt;
      merged.fresh += part.fresh;
    }
    return merged;
  }
}

/** Shared, never changed: a part not yet declared or observed, and one only declared. */
export const UNSEEN = new Provenance();
export const DECLARED_ONLY_PART = Object.assign(new Provenance(), { declared: true });
