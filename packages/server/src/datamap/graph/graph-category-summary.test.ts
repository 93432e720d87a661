import type { DataMapGraphSummary } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import { generateDataMap } from '../../../../../bench/datamap-dataset.js';
import { DataMapIndex } from './datamap-graph.js';
import { SUMMARY_TEAM_PAIRS, summarizeGraph } from './graph-summary.js';
import { DEFAULT_DATA_CATEGORIES, Taxonomy } from '../../lib/taxonomy.js';

const categories = Taxonomy.dataCategories();
/** Every default key (roots, inner keys, leaves), plus a key below a leaf and one nobody carries. */
const FILTERS = [
  ...DEFAULT_DATA_CATEGORIES.map((entry) => entry.key),
  'user.contact.email.work',
  'user.unknown_key',
];

/**
 * The category summary is counted off the index interned to integers (graph-category-summary.ts),
 * apart from the rule that makes the whole answer (graph-category.ts). On generated maps it must
 * answer, byte for byte, what counting the whole answer answers (`summarizeGraph`), the way every
 * summary was made before.
 */
describe('DataMapIndex.summary for the category filter', () => {
  it.each([
    // Few teams: every pair of teams is joined; many teams: more than SUMMARY_TEAM_PAIRS pairs,
    // with ties in their counts.
    { systems: 60, flows: 200, teams: 3, seed: 3 },
    { systems: 300, flows: 2_000, teams: 12, seed: 11 },
    { systems: 800, flows: 4_000, teams: 40, seed: 5 },
  ])('counts what the whole answer counts on $systems systems, $flows flows, $teams teams', (options) => {
    const index = DataMapIndex.build(generateDataMap({ ...options, now: Date.UTC(2026, 0, 1) }), categories);
    const seen = { truncated: false, teamless: false, staleDiffers: false, empty: false };
    for (const category of FILTERS) {
      const answers: DataMapGraphSummary[] = [];
      for (const includeStale of [false, true]) {
        const summary = index.summary({ category, includeStale });
        const expected = summarizeGraph(index.graph({ category, includeStale }));
        expect(JSON.stringify(summary), `${category} includeStale=${includeStale}`).toBe(
          JSON.stringify(expected),
        );
        answers.push(summary);
        seen.truncated ||= summary.teamPairs > SUMMARY_TEAM_PAIRS;
        seen.teamless ||= summary.teamFlows.some((pair) => !pair.fromTeam || !pair.toTeam);
        seen.empty ||= summary.edges.store + summary.edges.transmit === 0;
      }
      seen.staleDiffers ||= JSON.stringify(answers[0]) !== JSON.stringify(answers[1]);
    }
    // The maps hold what the count must get right: stale parts, systems without team, keys nobody
    // carries and, with many teams, more pairs than a summary lists.
    expect(seen).toEqual({
      truncated: options.teams * options.teams > SUMMARY_TEAM_PAIRS,
      teamless: true,
      staleDiffers: true,
      empty: true,
    });
  });

  it('answers the same summary again (no state kept between queries)', () => {
    const index = DataMapIndex.build(
      generateDataMap({ systems: 100, flows: 500, teams: 5, seed: 2, now: Date.UTC(2026, 0, 1) }),
      categories,
    );
    const first = index.summary({ category: 'user' });
    index.summary({ category: 'user.health', includeStale: true });
    expect(index.summary({ category: 'user' })).toEqual(first);
    expect(first.edges.transmit).toBeGreaterThan(0);
  });
});
