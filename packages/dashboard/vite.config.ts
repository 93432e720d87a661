import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const OUT_DIR = 'dist';

/**
 * Writes `.br` and `.gz` beside every built text file. `lethe serve` sends them to browsers that
 * accept the encoding (@fastify/static's `preCompressed`), so the server compresses nothing at
 * run time and the files are compressed once, at the highest level.
 */
function precompress(): Plugin {
  const compressible = /\.(js|css|html|svg)$/;
  const filesUnder = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
  return {
    name: 'lethe-precompress',
    apply: 'build',
    closeBundle() {
      for (const file of filesUnder(OUT_DIR).filter((path) => compressible.test(path))) {
        const content = readFileSync(file);
        writeFileSync(`${file}.gz`, gzipSync(content, { level: 9 }));
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

// The dashboard imports types from @lethe/api, which vanish at build time, and values only from
// its schema-free lists (`@lethe/api/choices`), read from source so no build of the API comes first.
export default defineConfig({
  base: '/',
  resolve: {
    alias: { '@lethe/api/choices': fileURLToPath(new URL('../api/src/choices.ts', import.meta.url)) },
  },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    // Below this size Vite inlines assets as data: URLs, which the dashboard's CSP (img-src 'self') forbids.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  plugins: [precompress()],
});
