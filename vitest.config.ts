import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, not the built dist folders.
    alias: {
      '@lethe/api/choices': source('./packages/api/src/choices.ts'),
      '@lethe/api': source('./packages/api/src/index.ts'),
      '@lethe/client/prometheus': source('./packages/client/src/prometheus.ts'),
      '@lethe/client': source('./packages/client/src/index.ts'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    globalSetup: ['packages/server/test/support/build.ts', 'packages/dashboard/test/support/build.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites share PostgreSQL databases; keep files isolated but bounded on 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
