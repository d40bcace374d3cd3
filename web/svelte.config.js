import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** The dashboard: SvelteKit on adapter-node, run from web/ (npm start builds it into web/build). */
export default {
  preprocess: vitePreprocess(),
  compilerOptions: { runes: true },
  kit: {
    adapter: adapter({ out: 'build', precompress: true }),
    // The layers it shares with the backend: pure rules, wire contracts, the program's client.
    alias: { $domain: '../domain', $contracts: '../contracts', $programs: '../programs/client' },
    version: { pollInterval: 0 },
  },
};
