import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What each file of the built dashboard may weigh: its own size (what the browser parses) and its
 * brotli file (what the server sends). bundle-size.test.ts fails on a file over budget and on a
 * built file no budget names, so a new asset (a chunk, a worker) cannot slip in unweighed;
 * `npm run bench:dashboard` prints the budgets beside the measured sizes.
 */
export interface AssetBudget {
  /** The file as docs/benchmarks.md names it, its hash written `[hash]`. */
  readonly name: string;
  readonly pattern: RegExp;
  readonly maxBytes: number;
  readonly maxBrotliBytes: number;
}

const KiB = 1024;
const HASH = '[\\w-]{8}';
const asset = (name: string, maxKiB: number, maxBrotliKiB: number): AssetBudget => ({
  name,
  pattern: new RegExp(`^${name.replace(/\./g, '\\.').replace('[hash]', HASH)}$`),
  maxBytes: maxKiB * KiB,
  maxBrotliBytes: maxBrotliKiB * KiB,
});

export const ASSET_BUDGETS: readonly AssetBudget[] = [
  asset('index.html', 1, 1),
  asset('assets/favicon-[hash].svg', 1, 1),
  asset('assets/index-[hash].css', 16, 4),
  // The shell's script: what every page loads first.
  asset('assets/index-[hash].js', 384, 100),
  // The data map (Cytoscape.js, elkjs's API), loaded with that page only.
  asset('assets/datamap-page-[hash].js', 512, 140),
  // ELK's layout engine, started as a Web Worker by the data map only (CSP `worker-src 'self'`).
  asset('assets/elk-worker.min-[hash].js', 1800, 400),
];

export interface BuiltAsset {
  /** Relative to the dist folder: `index.html`, `assets/index-AbCd1234.js`. */
  readonly name: string;
  readonly bytes: number;
  /** The precompressed file the server sends to a browser that accepts brotli (the plain size if none). */
  readonly brotliBytes: number;
  readonly gzipBytes: number;
}

/** The files of a dashboard build, without their precompressed twins. */
export function builtAssets(dist: string): BuiltAsset[] {
  const files = [
    'index.html',
    ...readdirSync(join(dist, 'assets'))
      .filter((name) => !/\.(br|gz)$/.test(name))
      .map((name) => join('assets', name)),
  ];
  const sizeOr = (path: string, fallback: number) => (existsSync(path) ? statSync(path).size : fallback);
  return files.map((name) => {
    const path = join(dist, name);
    const bytes = statSync(path).size;
    return { name, bytes, brotliBytes: sizeOr(`${path}.br`, bytes), gzipBytes: sizeOr(`${path}.gz`, bytes) };
  });
}

/** The budget naming `asset`, if any. */
export function budgetOf(asset: BuiltAsset): AssetBudget | undefined {
  return ASSET_BUDGETS.find((budget) => budget.pattern.test(asset.name));
}
