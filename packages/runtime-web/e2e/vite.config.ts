import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// The page runtime-web's browser tests drive: cross-origin isolated (WASM threads), sources of the workspace
// packages (the 'source' condition), built apart from any dist a package publishes.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  resolve: { conditions: ['source'] },
  server: { headers: isolation, host: '127.0.0.1' },
  preview: { headers: isolation, host: '127.0.0.1' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 30_000,
    outDir: resolve(import.meta.dirname, '../node_modules/.cache/e2e'),
    emptyOutDir: true,
  },
});
