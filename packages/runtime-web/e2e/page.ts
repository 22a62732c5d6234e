// Builds the harness page (vite), serves it on 127.0.0.1 with its COOP/COEP headers and opens it in headless
// Chromium: what browser.test.ts and apps/bench/scripts/web/pipeline-worker.ts share.
import { join, resolve } from 'node:path';
import { launchChromium, servePreview, within } from '@mobilenet/test-support/chromium';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { STEP_TIMEOUT_MS } from '../../../vitest.shared.js';

const E2E = import.meta.dirname;
const OUT = resolve(E2E, '../node_modules/.cache/e2e');

type HarnessWindow = { harness: Record<string, (...args: unknown[]) => Promise<unknown>> };

export interface HarnessPage {
  readonly page: Page;
  /** Calls window.harness[fn](...args) in the page, failing after `ms` rather than hanging. */
  call<T>(fn: string, args: unknown[], ms?: number): Promise<T>;
  /** A fresh page load: onnxruntime-web reads its thread count once per page. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export async function openHarness(): Promise<HarnessPage> {
  await build({ configFile: join(E2E, 'vite.config.ts'), logLevel: 'error' });
  const { server, url } = await servePreview({ root: E2E, outDir: OUT });
  const browser = await launchChromium({ webgpu: false });
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  const load = async () => {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: STEP_TIMEOUT_MS });
  };
  await load();
  return {
    page,
    call: <T>(fn: string, args: unknown[], ms = STEP_TIMEOUT_MS) =>
      within(
        ms,
        `harness.${fn} in Chromium`,
        page.evaluate(([f, a]) => (window as unknown as HarnessWindow).harness[f]!(...a), [fn, args] as const),
      ) as Promise<T>,
    reload: load,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
