import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The dashboard's aliases (web/svelte.config.js), for its $lib rules tested here.
  resolve: { alias: { $domain: new URL('./domain', import.meta.url).pathname, $contracts: new URL('./contracts', import.meta.url).pathname, $programs: new URL('./programs/client', import.meta.url).pathname } },
  test: {
    include: ['**/*.test.ts'],
    // web/: only the plain-TS rules of its $lib run here (no Svelte, no browser); its pages are tested in a browser.
    exclude: ['node_modules/**', 'web/.svelte-kit/**', 'web/build/**', 'web/src/routes/**', 'web/src/lib/components/**', '.data/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
