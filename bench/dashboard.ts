/**
 * `npm run bench:dashboard [-- --runs N]`
 *
 * The dashboard's weight and speed, on loopback: the size of the built bundle (raw and gzip), and
 * the first load of the overview page in Chromium (Debian's, through playwright-core) against a
 * real `lethe serve --demo`, signed in. Each run is a fresh browser context (empty cache), timed
 * from navigation start to the overview's counts on screen; `--runs` of them (default 20) after
 * one warm-up run, which also warms the server.
 *
 * Run `npm run build` first: this measures the build in packages/dashboard/dist. Rewrites the
 * `dashboard` section of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, launchChromium } from '../packages/dashboard/test/support/browser.js';
import { budgetOf, builtAssets, type BuiltAsset } from '../packages/dashboard/test/support/asset-budgets.js';
import { DASHBOARD_DIST } from '../packages/dashboard/test/support/build.js';
import { api, killAllServers, runLethe, startServer } from '../packages/server/test/support/lethe-process.js';
import { positiveIntegerFlags } from './args.js';
import { table, writeReportSection } from './report.js';
import { formatInteger, formatMs, percentile } from './stats.js';

const { runs } = positiveIntegerFlags(process.argv.slice(2), { runs: 20 });
/** The issue's bound for the first load of the overview page on loopback. */
const BUDGET_MS = 1_000;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The file's budget (asset-budgets.ts, checked by bundle-size.test.ts) and whether it is met. */
function budgetText(asset: BuiltAsset): string {
  const budget = budgetOf(asset);
  if (!budget) return '**none**';
  const met = asset.bytes <= budget.maxBytes && asset.brotliBytes <= budget.maxBrotliBytes;
  return `${kib(budget.maxBytes)} / ${kib(budget.maxBrotliBytes)}: ${met ? 'met' : '**exceeded**'}`;
}

async function main(): Promise<void> {
  const assets = builtAssets(DASHBOARD_DIST);
  const dataDir = mkdtempSync(join(tmpdir(), 'lethe-bench-dashboard-'));
  const server = await startServer({ dataDir, demo: true });
  const browser = await launchChromium();
  try {
    const minted = await runLethe(['token', 'create', '--role', 'dpo', '--data-dir', dataDir]);
    if (minted.code !== 0) throw new Error(`token create failed: ${minted.stderr}`);
    const token = minted.stdout.trim();
    const overview = (await api(server.url, token, 'GET', '/v1/overview')).body as {
      counts: { subjects: number };
    };

    const samples: number[] = [];
    const transferred: number[] = [];
    for (let run = 0; run <= runs; run += 1) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      // Signed in as the tab would be after the sign-in page: the token in sessionStorage.
      await context.addInitScript(`sessionStorage.setItem('lethe.token', ${JSON.stringify(token)})`);
      const page = await context.newPage();
      let bytes = 0;
      page.on('response', (response) => {
        const length = Number(response.headers()['content-length'] ?? 0);
        bytes += Number.isFinite(length) ? length : 0;
      });
      await page.goto(`${server.url}/`);
      // performance.now() counts from the navigation's start; polled every animation frame. A
      // function, not a string: the dashboard's CSP forbids eval, which a string predicate needs.
      const handle = await page.waitForFunction(
        () => {
          const page = globalThis as unknown as {
            document: { querySelector(selector: string): unknown };
            performance: { now(): number };
          };
          return page.document.querySelector('[data-count="subjects"]') ? page.performance.now() : false;
        },
        undefined,
        { polling: 'raf', timeout: 30_000 },
      );
      const shownAt = (await handle.jsonValue()) as number;
      await context.close();
      if (run === 0) continue; // warm-up
      samples.push(shownAt);
      transferred.push(bytes);
    }

    const chromiumVersion = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim();
    const processors = cpus();
    const total = assets.reduce((sum, asset) => sum + asset.bytes, 0);
    const totalGzip = assets.reduce((sum, asset) => sum + asset.gzipBytes, 0);
    const totalBrotli = assets.reduce((sum, asset) => sum + asset.brotliBytes, 0);
    const median = percentile(samples, 50);
    const p95 = percentile(samples, 95);
    const worst = Math.max(...samples);
    const markdown = `## Dashboard: \`npm run bench:dashboard\`

- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC
- CPU: ${processors.length} × ${processors[0]?.model.trim() ?? 'unknown'}; Memory: ${Math.round(totalmem() / 2 ** 30)} GiB; OS: Linux ${release()}
- Node ${process.version}; ${chromiumVersion} (headless, --no-sandbox --disable-gpu)

Bundle (\`packages/dashboard/dist\`): each file is compressed at build time and the server sends the
brotli or gzip file to a browser that accepts it (Chromium takes brotli). The
\`datamap-page\` chunk (Cytoscape.js) is fetched only when the data map is opened, and it starts
\`elk-worker.min\` (ELK's layout engine) as a Web Worker; the overview loads the shell,
\`index-[hash].js\` and \`index-[hash].css\`. Each file's budget is in
\`packages/dashboard/test/support/asset-budgets.ts\`, checked by \`bundle-size.test.ts\`:

${table([
  ['file', 'bytes', 'brotli (sent)', 'gzip', 'budget (bytes / brotli)'],
  ...assets.map((asset) => [
    `\`${asset.name.replace(/-[\w-]{8}\./, '-[hash].')}\``,
    kib(asset.bytes),
    kib(asset.brotliBytes),
    kib(asset.gzipBytes),
    budgetText(asset),
  ]),
  ['**total**', `**${kib(total)}**`, `**${kib(totalBrotli)}**`, `**${kib(totalGzip)}**`, ''],
])}

First load of the overview on loopback: a fresh browser context each run (no cache), signed in,
against \`lethe serve --demo\` (SQLite, ${formatInteger(overview.counts.subjects)} subjects); from navigation start to the
counts on screen (the shell, its script and style, then \`GET /v1/session\`, \`GET /v1/overview\`
\`GET /v1/reappearances\` and \`GET /v1/consent/violations\`). ${runs} runs after one warm-up.

${table([
  ['median', 'p95', 'worst', 'bytes transferred per load', 'budget'],
  [
    `${formatMs(median)} ms`,
    `${formatMs(p95)} ms`,
    `${formatMs(worst)} ms`,
    kib(percentile(transferred, 50)),
    `${formatInteger(BUDGET_MS)} ms: ${worst < BUDGET_MS ? 'met by every run' : 'exceeded'}`,
  ],
])}
`;
    writeReportSection('dashboard', markdown);
    console.log(markdown);
  } finally {
    await browser.close();
    await killAllServers();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
