// Browser backends: the demo app (its runtime code, built by Vite) in Debian's headless Chromium.
import { resolve } from 'node:path';
import { chromiumMissing, launchChromium, servePreview, within } from '@mobilenet/test-support/chromium';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import type { Cell, CellResult } from './cell.js';

const DEMO = resolve(import.meta.dirname, '../../demo');
// Built apart from the demo's own dist, so the demo's e2e test and this harness never write the same folder.
const OUT = resolve(import.meta.dirname, '../.cache/demo');

export interface BrowserRunner {
  run(cell: Cell): Promise<CellResult>;
  close(): Promise<void>;
}

/** Why browser cells cannot run here, or null. */
export const browserUnavailable = chromiumMissing;

export async function startBrowser(): Promise<BrowserRunner> {
  await build({ root: DEMO, logLevel: 'error', build: { outDir: OUT, emptyOutDir: true } });
  const { server, url } = await servePreview({ root: DEMO, outDir: OUT });
  // One browser for the WASM and the WebGPU cells: WebGPU on (SwiftShader's adapter when there is no GPU).
  const browser = await launchChromium({ webgpu: true });
  const page: Page = await browser.newPage();
  await page.goto(url);
  let threads = 0;
  type DemoWindow = {
    demo: {
      benchmark(
        c: object,
      ): Promise<{ backend: string; threads: number; latencies: number[]; windowMs: number; logits: number[] }>;
      availableBackends(): Promise<{ backend: string; available: boolean; reason?: string }[]>;
    };
  };
  const status = await page.evaluate(() => (window as unknown as DemoWindow).demo.availableBackends());
  return {
    async run(cell) {
      const backend = cell.engine === 'wasm-browser' ? 'wasm' : cell.engine;
      const s = status.find((b) => b.backend === backend);
      if (s && !s.available) throw new Error(`${cell.engine} unavailable in Chromium: ${s.reason}`);
      if (threads && threads !== cell.threads) await page.goto(url); // a fresh onnxruntime-web for another thread count
      threads = cell.threads;
      const r = await within(
        600_000,
        `${cell.arch} on ${cell.engine}`,
        page.evaluate((c) => (window as unknown as DemoWindow).demo.benchmark(c), { ...cell, backend, seed: 0 }),
      );
      return {
        latencies: r.latencies,
        windowMs: r.windowMs,
        logits: r.logits,
        threads: r.threads,
        peakRssMiB: null,
        note: cell.engine === 'webgpu' ? 'SwiftShader unless a GPU is present' : undefined,
      };
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
