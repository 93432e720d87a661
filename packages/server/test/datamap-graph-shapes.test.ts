import type { DataMapGraph, DataMapGraphSummary } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataMap } from '../../../bench/datamap-dataset.js';
import { loadDataMap } from '../../../bench/datamap-load.js';
import { openKeyedStore } from '../src/auth/key-material.js';
import type { Principal } from '../src/auth/principal.js';
import { GraphService } from '../src/datamap/graph-service.js';
import { pageOf, parseCursor } from '../src/datamap/graph/graph-page.js';
import { summarizeGraph } from '../src/datamap/graph/graph-summary.js';
import type { Store } from '../src/store/store.js';
import { availableBackends } from './support/backends.js';

/**
 * The category filter's summary and pages are read off the index without making the whole answer
 * (graph-category.ts, graph-category-page.ts). On a generated map stored in each backend, they
 * must answer exactly what the whole-answer path answers: `summarizeGraph` and `pageOf` of the
 * full filtered graph, the way every summary and page was made before.
 */
const available = await availableBackends();
const ADMIN: Principal = { id: 'shapes-admin', role: 'admin' };
const NOW = Date.UTC(2026, 0, 1);
/** Parents (`user`, `system`), inner keys, leaves, a key above stored ones, and one nobody carries. */
const CATEGORIES = [
  'user',
  'user.contact',
  'user.health',
  'user.contact.email',
  'user.contact.email.work',
  'system',
  'user.unknown_key',
];

describe.each(available)('graph summary and pages against the whole answer on $name', (backend) => {
  let store: Store;
  let graphs: GraphService;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const location = await backend.create({ migrated: true });
    // Small enough to walk every page of every answer, big enough for stale parts, discovered
    // systems, undeclared flows and edges reduced to some of their categories.
    const snapshot = generateDataMap({ systems: 300, flows: 2_000, teams: 12, seed: 11, now: NOW });
    await loadDataMap(location, snapshot, NOW);
    store = (await openKeyedStore(location)).store;
    graphs = new GraphService(store, () => NOW + 23 * 3_600_000);
    dispose = location.dispose;
  }, 120_000);
  afterAll(async () => {
    await store.close();
    await dispose();
  });

  const json = async <T>(query: Parameters<GraphService['graphJson']>[1]): Promise<T> =>
    JSON.parse(await graphs.graphJson(ADMIN, query)) as T;

  it('counts the same summary as the whole answer', async () => {
    let reduced = 0;
    for (const category of CATEGORIES) {
      for (const includeStale of [false, true]) {
        const whole = await json<DataMapGraph>({ category, includeStale });
        const summary = await json<DataMapGraphSummary>({ category, includeStale, summary: true });
        expect(summary, `${category} includeStale=${includeStale}`).toEqual(summarizeGraph(whole));
        if (category === 'user') expect(summary.edges.transmit).toBeGreaterThan(1_000);
        reduced += whole.edges.filter((edge) => edge.kind === 'transmit' && edge.stale).length;
      }
    }
    // Stale parts are in the map: the fresh and the stale answers differ somewhere.
    expect(reduced).toBeGreaterThan(0);
  });

  it('reads every page as the page cut from the whole answer', async () => {
    for (const category of CATEGORIES) {
      for (const includeStale of [false, true]) {
        const whole = await json<DataMapGraph>({ category, includeStale });
        for (const limit of [1, 97, 5_000]) {
          let after: string | undefined;
          const seen: DataMapGraph['edges'] = [];
          for (let pages = 0; pages < 10_000; pages++) {
            const query = { category, includeStale, limit, ...(after !== undefined ? { after } : {}) };
            const page = await json<DataMapGraph>(query);
            const cursor = after !== undefined ? parseCursor(after) : undefined;
            expect(page, `${category} ${includeStale} ${limit} after ${after}`).toEqual(
              pageOf(whole, limit, cursor),
            );
            seen.push(...page.edges);
            after = page.next;
            if (after === undefined) break;
          }
          expect(seen).toEqual(whole.edges);
        }
      }
    }
  }, 120_000);

  it('starts a page after a cursor that names no edge of the answer', async () => {
    const whole = await json<DataMapGraph>({ category: 'user.health' });
    for (const after of ['owns:team:zz->system:a', 'client:a->b', 'transmit:system:svc-00150->system:']) {
      expect(await json<DataMapGraph>({ category: 'user.health', limit: 10, after })).toEqual(
        pageOf(whole, 10, parseCursor(after)),
      );
    }
  });
});
