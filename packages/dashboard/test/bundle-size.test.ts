import { describe, expect, it } from 'vitest';
import { DASHBOARD_DIST } from './support/build.js';
import { ASSET_BUDGETS, budgetOf, builtAssets } from './support/asset-budgets.js';

/**
 * The built dashboard (the vitest global setup builds it) against its budgets, file by file: the
 * figures of docs/benchmarks.md ("Dashboard") cannot grow unnoticed, and no file goes unweighed.
 */
describe('the dashboard build', () => {
  const assets = builtAssets(DASHBOARD_DIST);

  it('has a budget for every file it ships, and a file for every budget', () => {
    for (const asset of assets) expect(budgetOf(asset), asset.name).toBeDefined();
    for (const budget of ASSET_BUDGETS) {
      expect(
        assets.filter((asset) => budget.pattern.test(asset.name)).map((asset) => asset.name),
        budget.name,
      ).toHaveLength(1);
    }
  });

  it('keeps every file within its budget, as parsed and as sent (brotli)', () => {
    for (const asset of assets) {
      const budget = budgetOf(asset);
      if (!budget) continue;
      expect(asset.bytes, `${asset.name} bytes`).toBeLessThanOrEqual(budget.maxBytes);
      expect(asset.brotliBytes, `${asset.name} brotli bytes`).toBeLessThanOrEqual(budget.maxBrotliBytes);
      // Precompressed at build time: the server never sends the plain file to Chromium.
      if (/\.(js|css|html|svg)$/.test(asset.name)) expect(asset.brotliBytes).toBeLessThan(asset.bytes);
    }
  });
});
