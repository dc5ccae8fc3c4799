import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/**
 * Three bundles (see ../shared/STACK-NOTES.md for why entries are named explicitly):
 * - main: the Electron shell plus the job worker entry (engine code runs in worker threads);
 * - preload: one CJS file with no runtime dependency, loadable by a sandboxed renderer;
 * - renderer: the Svelte UI, also served by browser mode (`drift-wb serve`).
 */
const root = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(root, 'src-main/shell/index.ts'),
          'job-worker': resolve(root, 'src-main/engine/job-worker.ts'),
          // Training's second gradient thread (engine/train/parallel.ts resolves it beside itself).
          'gradient-worker': resolve(root, 'src-main/engine/train/gradient-worker.ts'),
          // Generation's second decoding thread (engine/model/generation-pool.ts resolves it beside itself).
          'generation-worker': resolve(root, 'src-main/engine/model/generation-worker.ts'),
        },
        // Flat output: chunks sit beside the entries, so `new URL('./gradient-worker.js',
        // import.meta.url)` in a chunk finds the worker entry.
        output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
        external: [/^@tensorflow\/tfjs-node/],
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(root, 'src-main/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    base: './',
    plugins: [svelte({ configFile: resolve(root, 'svelte.config.js') })],
    build: {
      outDir: resolve(root, 'out/renderer'),
      minify: true,
      rollupOptions: { input: { index: resolve(root, 'src-renderer/index.html') } },
    },
  },
});
