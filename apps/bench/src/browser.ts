// Browser backends: the demo app (its runtime code, built by Vite) in Debian's headless Chromium.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type PreviewServer, build, preview } from 'vite';
import type { Cell, CellResult } from './cell.js';

const DEMO = resolve(import.meta.dirname, '../../demo');
// Built apart from the demo's own dist, so the demo's e2e test and this harness never write the same folder.
const OUT = resolve(import.meta.dirname, '../.cache/demo');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface BrowserRunner {
  run(cell: Cell): Promise<CellResult>;
  close(): Promise<void>;
}

/** Why browser cells cannot run here, or null. */
export function browserUnavailable(): string | null {
  return existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

/** page.evaluate has no timeout of its own; the timer is cleared so it cannot keep the process alive. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function startBrowser(): Promise<BrowserRunner> {
  await build({ root: DEMO, logLevel: 'error', build: { outDir: OUT, emptyOutDir: true } });
  const server: PreviewServer = await preview({ root: DEMO, logLevel: 'error', build: { outDir: OUT }, preview: { port: 0, host: '127.0.0.1' } });
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--enable-unsafe-webgpu'],
  });
  const page: Page = await browser.newPage();
  const url = server.resolvedUrls!.local[0]!;
  await page.goto(url);
  let threads = 0;
  type DemoWindow = { demo: { benchmark(c: object): Promise<{ backend: string; threads: number; latencies: number[]; logits: number[] }>; availableBackends(): Promise<{ backend: string; available: boolean; reason?: string }[]> } };
  const status = await page.evaluate(() => (window as unknown as DemoWindow).demo.availableBackends());
  return {
    async run(cell) {
      const backend = cell.engine === 'wasm-browser' ? 'wasm' : cell.engine;
      const s = status.find((b) => b.backend === backend);
      if (s && !s.available) throw new Error(`${cell.engine} unavailable in Chromium: ${s.reason}`);
      if (threads && threads !== cell.threads) await page.goto(url); // a fresh onnxruntime-web for another thread count
      threads = cell.threads;
      const r = await within(600_000, `${cell.arch} on ${cell.engine}`, page.evaluate((c) => (window as unknown as DemoWindow).demo.benchmark(c), { ...cell, backend, seed: 0 }));
      return { latencies: r.latencies, logits: r.logits, threads: r.threads, peakRssMiB: null, note: cell.engine === 'webgpu' ? 'SwiftShader unless a GPU is present' : undefined };
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
