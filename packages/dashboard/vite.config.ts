import { defineConfig } from 'vite';

// The dashboard imports only types from @lethe/api; they vanish at build time, so no alias is needed.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Below this size Vite inlines assets as data: URLs, which the dashboard's CSP (img-src 'self') forbids.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
