import { fileURLToPath } from 'node:url';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

const anchorShim = fileURLToPath(new URL('./src/lib/chain/anchor-shim.ts', import.meta.url));

export default defineConfig({
  plugins: [sveltekit()],
  resolve: {
    // programs/client default-imports @coral-xyz/anchor (its CommonJS build on Node); the browser
    // build has named exports only, so the browser gets a module shaped like Node's default.
    alias: [{ find: /^@coral-xyz\/anchor$/, replacement: anchorShim }],
  },
  server: { fs: { allow: ['..'] } },
  build: { target: 'es2022', chunkSizeWarningLimit: 1_500 },
  optimizeDeps: { esbuildOptions: { target: 'es2022' } },
});
