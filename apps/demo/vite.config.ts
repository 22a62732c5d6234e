import { defineConfig } from 'vite';

// Cross-origin isolation: without these headers browsers refuse SharedArrayBuffer and onnxruntime-web silently
// runs one WASM thread. A static host must send the same two headers (see README).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  resolve: { conditions: ['source'] },
  server: { headers: isolation, host: '127.0.0.1' },
  preview: { headers: isolation, host: '127.0.0.1' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 30_000 },
});
