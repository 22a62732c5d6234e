import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type TrainHeadOptions, trainHead } from '@mobilenet/core';
import { features, readHeads } from '@mobilenet/core/testing';
import { createSession } from '@mobilenet/runtime-node';
import { skipUnless } from '@mobilenet/test-support';
import { chromiumMissing, launchChromium, servePreview } from '@mobilenet/test-support/chromium';
import type { Browser, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Teach mode in the built demo (dist/, from `vite build` in this package's test script), in headless Chromium.
const DEMO = resolve(import.meta.dirname, '..');
const ROOT = resolve(DEMO, '../..');
const missing = skipUnless('Chromium', chromiumMissing());
const heads = readHeads();

type Options = Omit<TrainHeadOptions, 'embeddings' | 'onEpoch'>;
type PageHead = { W: number[]; b: number[]; W2?: number[]; b2?: number[]; losses: number[] };
type TeachWindow = {
  demo: {
    teach: {
      trainInWorker(
        o: object,
      ): Promise<{ weights: Record<string, Float32Array | undefined>; history: { loss: number }[] }>;
      teach(base: object, classes: { name: string; images: Blob[] }[], o: object): Promise<{ bytes: Uint8Array }>;
      tryTaught(images: Blob[]): Promise<{ label: string; probabilities: number[] }[]>;
    };
  };
};

describe.skipIf(missing !== null)(`Teach mode in headless Chromium ${missing ? `(skipped: ${missing})` : ''}`, () => {
  let server: PreviewServer;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    const served = await servePreview({ root: DEMO });
    server = served.server;
    browser = await launchChromium({ webgpu: false });
    page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(served.url);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  // Same float order in both: every sum in a fixed order in float64, exp/log ported from fdlibm (train/README.md).
  it.skipIf(!heads.data)(
    "trainHead in the page's Web Worker gives Node's weights bit for bit",
    async () => {
      const digits = heads.data!.cases.digits;
      const x = features(digits);
      const base = { labels: digits.labels, classes: digits.classes, seed: 1 };
      const cases: Options[] = [
        { ...base, epochs: 8, lr: 0.01, weightDecay: 1 / 1527 },
        {
          ...base,
          head: 'mlp',
          hidden: 16,
          epochs: 4,
          lr: 0.005,
          labelSmoothing: 0.1,
          classWeights: 'balanced',
          standardize: true,
        },
        { ...base, optimizer: 'lbfgs', epochs: 40, weightDecay: 1e-3 },
      ];
      for (const o of cases) {
        const node = trainHead({ ...o, embeddings: x });
        const got = await page.evaluate(
          async ({ o, x }) => {
            const h = await (window as unknown as TeachWindow).demo.teach.trainInWorker({
              ...o,
              embeddings: new Float32Array(x),
            });
            const arr = (a?: Float32Array) => (a ? Array.from(a) : undefined);
            return {
              W: arr(h.weights.W)!,
              b: arr(h.weights.b)!,
              W2: arr(h.weights.W2),
              b2: arr(h.weights.b2),
              losses: h.history.map((r) => r.loss),
            } as PageHead;
          },
          { o, x: Array.from(x) },
        );
        const what = `${o.head ?? 'linear'} ${o.optimizer ?? 'adam'}`;
        expect(Float32Array.from(got.W), what).toEqual(node.weights.W);
        expect(Float32Array.from(got.b), what).toEqual(node.weights.b);
        if (node.weights.W2) expect(Float32Array.from(got.W2!), what).toEqual(node.weights.W2);
        expect(got.losses, what).toEqual(node.history.map((r) => r.loss));
      }
    },
    120_000,
  );

  it("the downloaded .onnx gives the page's predictions in onnxruntime-node", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'teach-'));
    try {
      const r = spawnSync(
        '/usr/bin/python3',
        [join(ROOT, 'tools/fixtures/image_folders.py'), dir, '--per-class', '6'],
        {
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`image_folders.py (needs Debian's python3-sklearn): ${r.stderr}`);
      const names = ['0', '1', '7'];
      const files = names.map((c) => readdirSync(join(dir, c)).map((f) => join(dir, c, f)));
      const bytes = files.map((fs) => fs.map((f) => Array.from(readFileSync(f))));
      const base = { arch: 'v3-small', width: 0.5, resolution: 64, seed: 0, backend: 'wasm' };
      const page_ = await page.evaluate(
        async ({ base, names, bytes }) => {
          const t = (window as unknown as TeachWindow).demo.teach;
          const blobs = bytes.map((c) => c.map((b) => new Blob([new Uint8Array(b)], { type: 'image/png' })));
          const taught = await t.teach(
            base,
            names.map((name, i) => ({ name, images: blobs[i]! })),
            { epochs: 30 },
          );
          return { onnx: Array.from(taught.bytes), tries: await t.tryTaught(blobs.flat()) };
        },
        { base, names, bytes },
      );
      // The page's file, as the download link gives it, in onnxruntime-node on the same images.
      const session = await createSession(new Uint8Array(page_.onnx));
      const results = await session.classify(files.flat(), { topK: 3 });
      await session.release();
      expect(session.info.labels).toEqual(names);
      results.forEach((res, i) => {
        if (!res.ok) throw new Error(res.error);
        expect(res.top[0]!.label).toBe(page_.tries[i]!.label);
        for (const t of res.top)
          expect(Math.abs(t.probability - page_.tries[i]!.probabilities[t.index]!)).toBeLessThan(1e-4);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
