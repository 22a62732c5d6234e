// The demo's Detect and Segment section in headless Chromium: a sample photo through the seeded SSDLite320 and
// LRASPP built in the page, drawn on the canvas at the photo's size; the boxes equal what onnxruntime-node gives
// for the same model on the page's own decoded pixels. Screenshots in artifacts/ (demo-detect.png, demo-segment.png).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildModel, fanInFill } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';
import { skipUnless } from '@mobilenet/test-support';
import { chromiumMissing, launchChromium, servePreview } from '@mobilenet/test-support/chromium';
import type { Browser, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_TIMEOUT_MS } from '../../../vitest.shared.js';

const DEMO = resolve(import.meta.dirname, '..');
const ARTIFACTS = join(DEMO, 'artifacts');
const missing = skipUnless('Chromium', chromiumMissing());

describe.skipIf(missing !== null)(`demo: Detect and Segment ${missing ? `(skipped: ${missing})` : ''}`, () => {
  let server: PreviewServer;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    const served = await servePreview({ root: DEMO });
    server = served.server;
    browser = await launchChromium({ webgpu: false });
    page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(served.url);
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const runTask = async (task: 'detect' | 'segment') => {
    await page.selectOption('#dense-task', task);
    await page.evaluate(() => delete document.getElementById('dense')!.dataset.state);
    await page.click('#dense-run');
    await page.waitForFunction(
      () => ['done', 'error'].includes(document.getElementById('dense')!.dataset.state ?? ''),
      undefined,
      { timeout: STEP_TIMEOUT_MS },
    );
    return page.evaluate(() => document.getElementById('dense')!.dataset.state);
  };

  it("draws SSDLite320's boxes (onnxruntime-node's, on the page's pixels) and LRASPP's mask over a sample", async () => {
    await page.locator('#samples button').first().click(); // chelsea.jpg, 451 x 300
    expect(await runTask('detect')).toBe('done');
    const canvas = await page.evaluate(() => {
      const c = document.getElementById('dense-canvas') as HTMLCanvasElement;
      return { width: c.width, height: c.height };
    });
    expect(canvas).toEqual({ width: 451, height: 300 });
    const status = await page.locator('#dense-status').textContent();
    expect(status).toMatch(/^samples\/chelsea\.jpg: .+%/);
    // The same model in onnxruntime-node on the pixels the page decoded: the same labels, in the same order.
    const page_ = await page.evaluate(async () => {
      const blob = await (await fetch('samples/chelsea.jpg')).blob();
      const bitmap = await createImageBitmap(blob);
      const c = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
      c.drawImage(bitmap, 0, 0);
      const rgba = c.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const rgb = new Uint8Array((rgba.length / 4) * 3);
      for (let i = 0, j = 0; i < rgba.length; i += 4) {
        rgb[j++] = rgba[i]!;
        rgb[j++] = rgba[i + 1]!;
        rgb[j++] = rgba[i + 2]!;
      }
      const demo = (
        window as unknown as {
          denseDemo: {
            runDense: (
              c: object,
              i: object,
            ) => Promise<{ result: { ok: boolean; detections: { labelIndex: number; score: number }[] } }>;
          };
        }
      ).denseDemo;
      const { result } = await demo.runDense(
        { task: 'detect', seed: 0, scoreThreshold: 0.5 },
        { name: 'chelsea', data: rgb, width: bitmap.width, height: bitmap.height, channels: 3 },
      );
      return { rgb: Array.from(rgb), width: bitmap.width, height: bitmap.height, result };
    });
    const session = await createSession(
      buildModel({ arch: 'ssdlite320-v3-large', weights: fanInFill(0), batch: 'dynamic' }),
    );
    const [node] = await session.detect(
      [{ name: 'chelsea', data: Uint8Array.from(page_.rgb), width: page_.width, height: page_.height, channels: 3 }],
      { scoreThreshold: 0.5 },
    );
    await session.release();
    if (!node?.ok) throw new Error('onnxruntime-node failed');
    const clear = (ds: readonly { labelIndex: number; score: number }[]) =>
      ds.filter((d) => d.score > 0.51).map((d) => d.labelIndex);
    expect(page_.result.detections.length).toBeGreaterThan(0);
    expect(new Set(clear(page_.result.detections))).toEqual(new Set(clear(node.detections)));
    await page.locator('#dense').screenshot({ path: join(ARTIFACTS, 'demo-detect.png') });

    expect(await runTask('segment')).toBe('done');
    expect(await page.locator('#dense-status').textContent()).toMatch(/^samples\/chelsea\.jpg: \S+ \d+\.\d%/);
    await page.locator('#dense').screenshot({ path: join(ARTIFACTS, 'demo-segment.png') });
  });
});
