import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DASHBOARD_DIST = join(DASHBOARD_ROOT, 'dist');

/** Newest modification time under `path` (a file or a folder), in milliseconds. */
function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

/**
 * Vitest global setup: the server serves the built dashboard and the browser tests load it, so
 * rebuild `dist/` when a source is newer than it (a Vite build takes a few seconds; skipped when
 * nothing changed). Type errors are `npm run check`'s business, not this build's.
 */
export default function build(): void {
  const index = join(DASHBOARD_DIST, 'index.html');
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((name) =>
    newestChange(join(DASHBOARD_ROOT, name)),
  );
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(...sources)) return;
  const vite = fileURLToPath(new URL('../../../../node_modules/vite/bin/vite.js', import.meta.url));
  execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
    cwd: DASHBOARD_ROOT,
    stdio: 'inherit',
    // Vitest sets NODE_ENV=test, which would give React's development build and runtime checks:
    // test what ships.
    env: { ...process.env, NODE_ENV: 'production' },
  });
}
