import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: end-to-end tests run the built CLI, so bring `dist/` up to date first
 * (incremental: a no-op when nothing changed).
 */
export default function build(): void {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  execFileSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-b', 'packages/server', 'packages/client'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}
