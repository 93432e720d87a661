import type { DataMapGraph } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import { generateDataMap } from '../../../../../bench/datamap-dataset.js';
import type { DataMapSnapshot, MapFlow } from '../datamap.js';
import { DataMapIndex } from './datamap-graph.js';
import { Taxonomy, coversKey } from '../../lib/taxonomy.js';
import { T0, observation, snapshot, system } from '../../../test/support/datamap-snapshots.js';

const categories = Taxonomy.dataCategories();

const ids = (graph: DataMapGraph): string[] => graph.nodes.map((node) => node.id);
const edgeIds = (graph: DataMapGraph): string[] =>
  graph.edges.map((edge) => `${edge.kind} ${edge.from}>${edge.to}`);

/**
 * shop (team web): web → api (user.contact.email), api → crm (user.contact.phone_number, user.financial),
 * crm → mailer (user.contact.email), api → warehouse (user.behavior.purchase_history).
 */
function shop(): DataMapSnapshot {
  const flow = (from: string, to: string, keys: string[]): MapFlow => ({ from, to, categories: keys });
  return snapshot({
    teams: [{ name: 'web', description: 'Web team' }, { name: 'data' }, { name: 'idle' }],
    systems: [
      system('web', 'web'),
      system('api', 'web', [['user.contact.email'], ['user.name']]),
      system('crm', 'data', [['user.contact']]),
      system('mailer', 'data'),
      system('warehouse', 'data', [['user.behavior.purchase_history']]),
    ],
    flows: [
      flow('web', 'api', ['user.contact.email']),
      flow('api', 'crm', ['user.contact.phone_number', 'user.financial']),
      flow('crm', 'mailer', ['user.contact.email']),
      flow('api', 'warehouse', ['user.behavior.purchase_history']),
    ],
    clients: [
      { name: 'crm-rights', system: 'crm', protocol: 'http', address: 'https://crm/erase' },
      { name: 'ticket', system: 'mailer', protocol: 'ticket' },
    ],
  });
}

describe('DataMapIndex.graph', () => {
  it('merges declarations into nodes and edges, sorted', () => {
    const graph = DataMapIndex.build(shop(), categories).graph();
    expect(ids(graph)).toEqual([
      'category:user.behavior.purchase_history',
      'category:user.contact',
      'category:user.contact.email',
      'category:user.contact.phone_number',
      'category:user.financial',
      'category:user.name',
      'client:https://crm/erase',
      'client:ticket',
      'system:api',
      'system:crm',
      'system:mailer',
      'system:warehouse',
      'system:web',
      'team:data',
      'team:idle',
      'team:web',
    ]);
    expect(edgeIds(graph)).toEqual([
      'client team:data>client:https://crm/erase',
      'client team:data>client:ticket',
      'owns team:data>system:crm',
      'owns team:data>system:mailer',
      'owns team:data>system:warehouse',
      'owns team:web>system:api',
      'owns team:web>system:web',
      'store system:api>category:user.contact.email',
      'store system:api>category:user.name',
      'store system:crm>category:user.contact',
      'store system:warehouse>category:user.behavior.purchase_history',
      'transmit system:api>system:crm',
      'transmit system:api>system:warehouse',
      'transmit system:crm>system:mailer',
      'transmit system:web>system:api',
    ]);
    const api = graph.nodes.find((node) => node.id === 'system:api');
    expect(api).toEqual({
      id: 'system:api',
      kind: 'system',
      label: 'api',
      team: 'web',
      thirdParty: false,
      sources: ['declared'],
      stale: false,
    });
    expect(graph.nodes.find((node) => node.id === 'client:https://crm/erase')).toMatchObject({
      label: 'crm-rights',
      team: 'data',
      protocol: 'http',
    });
    expect(
      graph.edges.find((edge) => edge.from === 'system:api' && edge.to === 'system:crm')?.categories,
    ).toEqual(['user.contact.phone_number', 'user.financial']);
  });

  it('filters by category: a parent covers its children, transmit edges keep only covered keys', () => {
    const index = DataMapIndex.build(shop(), categories);
    const graph = index.graph({ category: 'user.contact' });
    expect(edgeIds(graph)).toEqual([
      'owns team:data>system:crm',
      'owns team:data>system:mailer',
      'owns team:web>system:api',
      'owns team:web>system:web',
      'store system:api>category:user.contact.email',
      'store system:crm>category:user.contact',
      'transmit system:api>system:crm',
      'transmit system:crm>system:mailer',
      'transmit system:web>system:api',
    ]);
    expect(
      graph.edges.find((edge) => edge.kind === 'transmit' && edge.to === 'system:crm')?.categories,
    ).toEqual(['user.contact.phone_number']);
    expect(ids(graph)).toEqual([
      'category:user.contact',
      'category:user.contact.email',
      'category:user.contact.phone_number',
      'system:api',
      'system:crm',
      'system:mailer',
      'system:web',
      'team:data',
      'team:web',
    ]);
    // A store of the parent may hold the child: asking about emails finds it.
    expect(edgeIds(index.graph({ category: 'user.contact.email' }))).toContain(
      'store system:crm>category:user.contact',
    );
    // A sibling does not.
    expect(edgeIds(index.graph({ category: 'user.contact.email' }))).not.toContain(
      'transmit system:api>system:crm',
    );
    expect(index.graph({ category: 'user.health' })).toEqual({ nodes: [], edges: [] });
  });

  it('filters by team: its systems, the edges touching them and their neighbours', () => {
    const graph = DataMapIndex.build(shop(), categories).graph({ team: 'data' });
    expect(edgeIds(graph)).toEqual([
      'client team:data>client:https://crm/erase',
      'client team:data>client:ticket',
      'owns team:data>system:crm',
      'owns team:data>system:mailer',
      'owns team:data>system:warehouse',
      'store system:crm>category:user.contact',
      'store system:warehouse>category:user.behavior.purchase_history',
      'transmit system:api>system:crm',
      'transmit system:api>system:warehouse',
      'transmit system:crm>system:mailer',
    ]);
    expect(ids(graph)).toContain('system:api');
    expect(ids(graph)).not.toContain('team:web'); // a neighbour's team is not a neighbour
    expect(ids(graph)).toContain('category:user.financial'); // carried by a kept transmit edge
    expect(DataMapIndex.build(shop(), categories).graph({ team: 'idle' })).toEqual({
      nodes: [expect.objectContaining({ id: 'team:idle' })],
      edges: [],
    });
  });

  it('filters by system: the induced subgraph of its closed neighbourhood', () => {
    const graph = DataMapIndex.build(shop(), categories).graph({ system: 'api' });
    expect(edgeIds(graph)).toEqual([
      'owns team:web>system:api',
      'owns team:web>system:web', // web is a neighbour, and so is its team
      'store system:api>category:user.contact.email',
      'store system:api>category:user.name',
      'transmit system:api>system:crm',
      'transmit system:api>system:warehouse',
      'transmit system:web>system:api',
    ]);
    expect(ids(graph)).not.toContain('system:mailer');
  });

  it('combines filters with AND', () => {
    const index = DataMapIndex.build(shop(), categories);
    expect(edgeIds(index.graph({ team: 'data', category: 'user.contact' }))).toEqual([
      'owns team:data>system:crm',
      'owns team:data>system:mailer',
      'store system:crm>category:user.contact',
      'transmit system:api>system:crm',
      'transmit system:crm>system:mailer',
    ]);
    expect(edgeIds(index.graph({ system: 'api', category: 'user.financial' }))).toEqual([
      'owns team:web>system:api',
      'transmit system:api>system:crm',
    ]);
    expect(edgeIds(index.graph({ system: 'api', team: 'data' }))).toEqual([
      'transmit system:api>system:crm',
      'transmit system:api>system:warehouse',
    ]);
    expect(index.graph({ team: 'nobody' })).toEqual({ nodes: [], edges: [] });
    expect(index.graph({ system: 'nothing' })).toEqual({ nodes: [], edges: [] });
    expect(index.hasSystem('api')).toBe(true);
    expect(index.hasSystem('nothing')).toBe(false);
    expect(index.hasTeam('idle')).toBe(true);
  });

  it('merges provenance of declarations and observations; discovered systems and unknown categories', () => {
    const index = DataMapIndex.build(
      snapshot({
        systems: [system('api', 'web', [['user.contact.email']])],
        flows: [{ from: 'api', to: 'crm', categories: ['user.contact.email'] }],
        observations: [
          observation({
            kind: 'transmit',
            source: 'prom-b',
            team: 'web',
            system: 'api',
            target: 'crm',
            category: 'user.contact.email',
            lastSeenAt: T0,
          }),
          observation({
            kind: 'transmit',
            source: 'prom-a',
            team: 'web',
            system: 'api',
            target: 'crm',
            category: 'user.contact.email',
            lastSeenAt: T0 + 5000,
          }),
          observation({
            kind: 'transmit',
            source: 'prom-a',
            team: 'ops',
            system: 'tracker',
            target: 'ads',
            category: 'clickstream',
          }),
          observation({
            kind: 'store',
            source: 'prom-a',
            team: 'ops',
            system: 'tracker',
            category: 'clickstream',
          }),
          observation({
            kind: 'client',
            source: 'prom-a',
            team: 'ops',
            target: 'grpc://rights:9000',
            protocol: 'grpc',
          }),
        ],
      }),
      categories,
    );
    const graph = index.graph();
    const edge = graph.edges.find((entry) => entry.kind === 'transmit' && entry.from === 'system:api');
    expect(edge).toEqual({
      from: 'system:api',
      to: 'system:crm',
      kind: 'transmit',
      categories: ['user.contact.email'],
      sources: ['declared', 'prom-a', 'prom-b'],
      lastSeenAt: new Date(T0 + 5000).toISOString(),
      stale: false,
    });
    expect(graph.nodes.find((node) => node.id === 'system:tracker')).toEqual({
      id: 'system:tracker',
      kind: 'system',
      label: 'tracker',
      team: 'ops',
      sources: ['prom-a'],
      lastSeenAt: new Date(T0).toISOString(),
      stale: false,
    });
    expect(graph.nodes.find((node) => node.id === 'category:clickstream')).toMatchObject({
      unknownCategory: true,
    });
    expect(
      graph.nodes.find((node) => node.id === 'category:user.contact.email')?.unknownCategory,
    ).toBeUndefined();
    expect(edgeIds(graph)).toEqual(
      expect.arrayContaining([
        'owns team:ops>system:tracker',
        'owns team:web>system:api',
        'client team:ops>client:grpc://rights:9000',
        'store system:tracker>category:clickstream',
        'transmit system:tracker>system:ads',
      ]),
    );
    expect(graph.nodes.find((node) => node.id === 'client:grpc://rights:9000')).toMatchObject({
      protocol: 'grpc',
    });
  });

  it('leaves stale entries out unless includeStale; declared entries are never stale', () => {
    const index = DataMapIndex.build(
      snapshot({
        systems: [system('api', 'web')],
        flows: [{ from: 'api', to: 'crm', categories: ['user.name'] }],
        observations: [
          observation({
            kind: 'transmit',
            team: 'web',
            system: 'api',
            target: 'crm',
            category: 'user.name',
            stale: true,
          }),
          observation({
            kind: 'transmit',
            team: 'web',
            system: 'api',
            target: 'crm',
            category: 'user.health',
            stale: true,
          }),
          observation({
            kind: 'transmit',
            team: 'web',
            system: 'api',
            target: 'old',
            category: 'user.name',
            stale: true,
          }),
          observation({
            kind: 'transmit',
            team: 'web',
            system: 'api',
            target: 'old',
            category: 'user.name',
            source: 'b',
          }),
          observation({
            kind: 'transmit',
            team: 'web',
            system: 'api',
            target: 'gone',
            category: 'user.name',
            stale: true,
          }),
        ],
      }),
      categories,
    );
    const fresh = index.graph();
    const crm = fresh.edges.find((edge) => edge.to === 'system:crm');
    expect(crm).toMatchObject({ categories: ['user.name'], stale: false, sources: ['declared', 'prom'] });
    expect(ids(fresh)).not.toContain('system:gone');
    expect(ids(fresh)).not.toContain('category:user.health');
    // Fresh and stale observations of one entry: not stale.
    expect(fresh.edges.find((edge) => edge.to === 'system:old')).toMatchObject({
      stale: false,
      sources: ['b', 'prom'],
    });

    const all = index.graph({ includeStale: true });
    expect(all.edges.find((edge) => edge.to === 'system:crm')?.categories).toEqual([
      'user.health',
      'user.name',
    ]);
    expect(all.edges.find((edge) => edge.to === 'system:gone')).toMatchObject({ stale: true });
    expect(all.nodes.find((node) => node.id === 'system:gone')).toMatchObject({ stale: true });
    // A category filter on the stale category alone shows the stale part's provenance.
    expect(index.graph({ category: 'user.health' }).edges).toEqual([]);
    expect(index.graph({ category: 'user.health', includeStale: true }).edges).toContainEqual(
      expect.objectContaining({
        to: 'system:crm',
        categories: ['user.health'],
        sources: ['prom'],
        stale: true,
      }),
    );
    expect(index.graph({ system: 'gone' })).toEqual({ nodes: [], edges: [] });
    expect(index.graph({ system: 'gone', includeStale: true }).nodes.length).toBeGreaterThan(0);
  });
});

describe('DataMapIndex on a synthetic map of 5,000 systems and 50,000 flows', () => {
  const data = generateDataMap({ systems: 5000, flows: 50_000, teams: 100, seed: 7 });
  const index = DataMapIndex.build(data, categories);

  it('keeps only edges carrying covered categories under a category filter', () => {
    for (const filter of ['user.contact', 'user.health', 'user.financial.bank_account']) {
      const graph = index.graph({ category: filter });
      const nodeIds = new Set(ids(graph));
      expect(graph.edges.length).toBeGreaterThan(0);
      const wrong = graph.edges.filter(
        (edge) =>
          !nodeIds.has(edge.from) ||
          !nodeIds.has(edge.to) ||
          edge.stale ||
          (edge.kind !== 'owns' &&
            (edge.kind === 'client' ||
              edge.categories.length === 0 ||
              !edge.categories.every((key) => coversKey(filter, key) || coversKey(key, filter)))),
      );
      expect(wrong).toEqual([]);
    }
  });

  it('answers a category filter as the whole map read by the documented rule', () => {
    // The category path reads the category index with typed-array marks; this reference reads the
    // whole map instead: store/transmit edges reduced to matching keys, the owns edges of every
    // system at an end of one, and the nodes these touch.
    for (const includeStale of [false, true]) {
      const whole = index.graph({ includeStale });
      const wholeNodes = new Set(ids(whole));
      for (const filter of ['user', 'user.contact.email']) {
        const matches = (key: string) => coversKey(filter, key) || coversKey(key, filter);
        const expectedEdges: string[] = [];
        const expectedNodes = new Set<string>();
        const holders = new Set<string>();
        for (const edge of whole.edges) {
          if (edge.kind !== 'store' && edge.kind !== 'transmit') continue;
          const kept = edge.categories.filter(matches);
          if (kept.length === 0) continue;
          expectedEdges.push(`${edge.kind} ${edge.from}>${edge.to} ${kept.join(',')}`);
          expectedNodes.add(edge.from).add(edge.to);
          holders.add(edge.from);
          if (edge.kind === 'transmit') {
            holders.add(edge.to);
            for (const key of kept)
              if (wholeNodes.has(`category:${key}`)) expectedNodes.add(`category:${key}`);
          }
        }
        for (const edge of whole.edges) {
          if (edge.kind !== 'owns' || !holders.has(edge.to)) continue;
          expectedEdges.push(`${edge.kind} ${edge.from}>${edge.to} `);
          expectedNodes.add(edge.from).add(edge.to);
        }
        const graph = index.graph({ category: filter, includeStale });
        expect(
          graph.edges
            .map((edge) => `${edge.kind} ${edge.from}>${edge.to} ${edge.categories.join(',')}`)
            .sort(),
        ).toEqual(expectedEdges.sort());
        expect(ids(graph).sort()).toEqual([...expectedNodes].sort());
        // Still in the documented order: by kind, from, to.
        expect(edgeIds(graph)).toEqual(
          graph.edges
            .map((edge) => edge)
            .sort((a, b) =>
              a.kind !== b.kind
                ? a.kind < b.kind
                  ? -1
                  : 1
                : a.from !== b.from
                  ? a.from < b.from
                    ? -1
                    : 1
                  : a.to < b.to
                    ? -1
                    : 1,
            )
            .map((edge) => `${edge.kind} ${edge.from}>${edge.to}`),
        );
      }
    }
  });

  it('answers in sorted order, and the whole map holds every declared flow', () => {
    const graph = index.graph({ includeStale: true });
    const rank = { client: 0, owns: 1, store: 2, transmit: 3 };
    const keys = graph.edges.map((edge) => [rank[edge.kind], edge.from, edge.to] as const);
    const unordered = keys.filter((b, i) => {
      const a = keys[i - 1];
      return a && !(a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2]))));
    });
    expect(unordered).toEqual([]);
    const nodeIds = ids(graph);
    expect([...nodeIds].sort()).toEqual(nodeIds);
    const transmits = new Set(
      graph.edges.filter((edge) => edge.kind === 'transmit').map((edge) => `${edge.from}>${edge.to}`),
    );
    expect(data.flows.every((flow) => transmits.has(`system:${flow.from}>system:${flow.to}`))).toBe(true);
  });

  it('reports every holder with a path over covered flows', () => {
    const holders = index.holders('user.contact');
    const graph = index.graph({ category: 'user.contact' });
    const transmits = new Set(
      graph.edges.filter((edge) => edge.kind === 'transmit').map((edge) => `${edge.from}>${edge.to}`),
    );
    const storing = new Set(graph.edges.filter((edge) => edge.kind === 'store').map((edge) => edge.from));
    expect(holders.length).toBeGreaterThan(100);
    const wrong = holders.filter(
      (holder) =>
        (holder.how === 'stores' && !storing.has(`system:${holder.system}`)) ||
        holder.via.at(-1) !== holder.system ||
        holder.via.some((name, i) => i > 0 && !transmits.has(`system:${holder.via[i - 1]}>system:${name}`)),
    );
    expect(wrong).toEqual([]);
    const destinations = index.destinations('svc-00001', 'user.contact') ?? [];
    for (const destination of destinations) {
      expect(destination.depth).toBe(destination.path.length - 1);
      expect(destination.categories.every((key) => coversKey('user.contact', key))).toBe(true);
    }
  });
});
