import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type Arch,
  archsWithConvention,
  buildModel,
  buildWithWeights,
  fanInFill,
  readCheckpoint,
  toOnnx,
  writeSafetensors,
} from '@mobilenet/core';
import { createSession, loadPretrained } from '@mobilenet/runtime-node';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbs, maxAbsDiff, skipUnless } from '@mobilenet/test-support';
import { chromiumMissing, launchChromium, servePreview, within } from '@mobilenet/test-support/chromium';
import { formulaCheckpoint, formulaTensor } from '@mobilenet/core/testing';
import { STEP_TIMEOUT_MS } from '../../../vitest.shared.js';
import { startFakeHub } from '@mobilenet/test-support/fake-hub';

// The built demo (dist/, from `vite build` in this package's test script), served with its COOP/COEP headers.
const DEMO = resolve(import.meta.dirname, '..');
/** In CI the browser tests must run: there a missing Chromium is a failure, not a skip. */
const missing = skipUnless('Chromium', chromiumMissing());
const ARTIFACTS = join(DEMO, 'artifacts');
// timm's own state_dict keys and shapes for its MobileNetV4s, and timm's fixture for Conv-S (its probes are values of
// the formula weights as timm's side made them): committed by tools/fixtures/timm_v4.py.
const TIMM_V4 = join(DEMO, '../../packages/core/test/fixtures/timm-v4');

type Top = readonly { index: number; probability: number }[];
type DemoWindow = {
  demo: {
    classify(c: object, image: Blob): Promise<{ backend: string; top: Top }>;
    logitsFor(c: object, url: string): Promise<{ backend: string; logits: number[] }>;
    availableBackends(): Promise<{ backend: string; available: boolean; reason?: string }[]>;
  };
};

describe.skipIf(missing !== null)(`demo in headless Chromium ${missing ? `(skipped: ${missing})` : ''}`, () => {
  let server: PreviewServer;
  let url = '';
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ({ server, url } = await servePreview({ root: DEMO }));
    browser = await launchChromium({ webgpu: true });
    page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(url);
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const waitDone = async (p: Page) => {
    await p.waitForFunction(
      () => document.body.dataset.state === 'done' || document.body.dataset.state === 'error',
      undefined,
      { timeout: STEP_TIMEOUT_MS },
    );
    return p.evaluate(() => document.body.dataset.state);
  };

  it("classifies a sample with WASM (threads on), and the top-5 equals onnxruntime-node's for the same model and image", async () => {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.locator('#samples button').first().click();
    expect(await waitDone(page)).toBe('done');
    const status = await page.locator('#status').textContent();
    expect(status).toMatch(/^Backend used: wasm, [2-4] WASM thread\(s\)\.$/);
    const top = await page.locator('#top5 li').evaluateAll((lis) =>
      lis.map((li) => ({
        index: Number((li as HTMLElement).dataset.index),
        p: Number(li.querySelector('.p')!.textContent!.replace('%', '')) / 100,
      })),
    );
    await page.screenshot({ path: join(ARTIFACTS, 'demo-wasm.png'), fullPage: true });
    // What produced the result, next to it: seeded weights, whose labels mean nothing.
    expect(await page.locator('#provenance').textContent()).toMatch(
      /^Weights: seeded \(seed 0\): random weights, so these labels mean nothing\. Convention: torchvision\. Backend: wasm, [2-4] thread\(s\)\.$/,
    );
    // Bars on an absolute scale: each bar's width is its probability of the full track (the top-1 of a seeded
    // model, well under 1%, draws a sliver).
    const bars = await page.locator('#top5 li').evaluateAll((lis) =>
      lis.map((li) => ({
        p: Number((li as HTMLElement).dataset.probability),
        style: (li.querySelector('.bar') as HTMLElement).style.width,
        bar: li.querySelector('.bar')!.getBoundingClientRect().width,
        track: li.querySelector('.track')!.getBoundingClientRect().width,
      })),
    );
    expect(bars).toHaveLength(5);
    for (const b of bars) {
      expect(b.track).toBeGreaterThan(100);
      expect(Number.parseFloat(b.style)).toBeCloseTo(100 * b.p, 6);
      expect(Math.abs(b.bar - b.p * b.track), `bar ${b.bar} px of ${b.track} for p ${b.p}`).toBeLessThan(1);
    }
    expect(bars[0]!.p).toBeLessThan(0.5);
    expect(bars[0]!.bar).toBeLessThan(bars[0]!.track / 2);

    const model = buildModel({
      arch: 'v3-small',
      width: 1,
      resolution: 224,
      convention: 'torchvision',
      weights: fanInFill(0),
      batch: 'dynamic',
    });
    const node = await createSession(model);
    const [r] = await node.classify([join(DEMO, 'public/samples/chelsea.jpg')]);
    await node.release();
    expect(r!.ok).toBe(true);
    if (!r!.ok) return;
    expect(top.map((t) => t.index)).toEqual(r!.top.map((t) => t.index));
    top.forEach((t, i) => {
      expect(t.p).toBeCloseTo(r!.top[i]!.probability, 4);
    });
    expect(await page.locator('#layer-table pre').textContent()).toContain('features.12.0');
  });

  it('loads a timm checkpoint in the page (safetensors, float16) and classifies like onnxruntime-node with the same weights', async () => {
    const file = join(DEMO, '../../packages/core/test/fixtures/timm/mobilenetv3_small_050.safetensors');
    await page.locator('#arch').selectOption('v3-small');
    await page.locator('#width').selectOption('0.5');
    await page.locator('#resolution').selectOption('96');
    await page.locator('#weights').setInputFiles(file);
    await page.waitForFunction(
      () => document.body.dataset.model === 'v3-small 0.5 96 wasm mobilenetv3_small_050.safetensors',
      undefined,
      { timeout: STEP_TIMEOUT_MS },
    );
    const top = await page
      .locator('#top5 li')
      .evaluateAll((lis) => lis.map((li) => Number((li as HTMLElement).dataset.index)));
    const ckpt = readCheckpoint(readFileSync(file), 'timm');
    const model = buildWithWeights(
      { arch: 'v3-small', width: 0.5, resolution: 96, convention: 'timm', batch: 'dynamic' },
      ckpt,
    );
    const node = await createSession(model);
    const [r] = await node.classify([join(DEMO, 'public/samples/chelsea.jpg')]);
    await node.release();
    expect(r!.ok && r!.top.map((t) => t.index)).toEqual(top);
    expect(await page.locator('#provenance').textContent()).toMatch(
      /^Weights: mobilenetv3_small_050\.safetensors\. Convention: timm\. Backend: wasm, [2-4] thread\(s\)\.$/,
    );
    await page.locator('#weights').setInputFiles([]);
    await page.locator('#width').selectOption('1');
    await page.locator('#resolution').selectOption('224');
    // Let the runs these changes queued finish, so the next test sees only its own.
    await page.waitForFunction(() => document.body.dataset.model === 'v3-small 1 224 wasm seed 0', undefined, {
      timeout: STEP_TIMEOUT_MS,
    });
  });

  // One test per architecture: each takes seconds to tens of seconds on SwiftShader (the first also starts it).
  // v1-v3 at 96x96; v4 (timm's convention, no torchvision one) at 64x64, where SwiftShader runs it in seconds.
  const webgpuCases: [Arch, number][] = [
    ...archsWithConvention('torchvision').map((a): [Arch, number] => [a, 96]),
    ['v4-conv-small', 64],
    ['v4-hybrid-medium', 64],
  ];
  for (const [arch, resolution] of webgpuCases) {
    it(`${arch} on WebGPU at ${resolution}x${resolution}: logits equal WASM's`, async (ctx) => {
      // Gated on the page's own answer (an adapter that starts), not on flags or files; in CI a failure.
      const status = await page.evaluate(() => (window as unknown as DemoWindow).demo.availableBackends());
      const webgpu = status.find((s) => s.backend === 'webgpu')!;
      const skip = skipUnless(
        "WebGPU in Chromium (SwiftShader's adapter in CI)",
        webgpu.available ? null : webgpu.reason!,
      );
      if (skip) {
        console.warn(`skipped: ${skip}`);
        ctx.skip(skip);
      }
      const run = (backend: string) =>
        within(
          STEP_TIMEOUT_MS,
          `${arch} on ${backend}`,
          page.evaluate(
            ([a, r, b]) =>
              (window as unknown as DemoWindow).demo.logitsFor(
                { arch: a, width: 1, resolution: r, backend: b, seed: 0 },
                'samples/chelsea.jpg',
              ),
            [arch, resolution, backend] as const,
          ),
        );
      const gpu = await run('webgpu');
      const cpu = await run('wasm');
      expect(gpu.backend).toBe('webgpu');
      const scale = maxAbs(cpu.logits);
      const diff = maxAbsDiff(gpu.logits, cpu.logits);
      expect(diff / scale, `max |webgpu - wasm| = ${diff}, scale ${scale}`).toBeLessThan(1e-3);
    });
  }

  /** Clears the page's state, does something, and waits for the page to finish it. */
  async function after(p: Page, action: () => Promise<unknown>) {
    await p.evaluate(() => delete document.body.dataset.state);
    await action();
    return waitDone(p);
  }

  it('bad input: a non-image, a broken .onnx, then a huge 8000x8000 image; the page says what happened and stays usable', async () => {
    const file = page.locator('#file');
    expect(
      await after(page, () =>
        file.setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') }),
      ),
    ).toBe('error');
    expect(await page.locator('#error').textContent()).toContain(
      'notes.png: cannot decode: not an image the browser can read',
    );

    const onnx = page.locator('#onnx');
    expect(
      await after(page, () =>
        onnx.setInputFiles({
          name: 'broken.onnx',
          mimeType: 'application/octet-stream',
          buffer: Buffer.from('definitely not onnx'),
        }),
      ),
    ).toBe('error');
    expect(await page.locator('#error').textContent()).toMatch(/broken\.onnx: expected an ONNX/);
    // No result of an earlier image or model stays on screen under an error.
    expect(await page.locator('#provenance').textContent()).toBe('');
    expect(await page.locator('#top5 li').count()).toBe(0);

    const huge = await sharp({
      create: { width: 8000, height: 8000, channels: 3, background: { r: 40, g: 120, b: 200 } },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(await after(page, () => onnx.setInputFiles([]))).toBe('error'); // the non-image is still the current image
    const t = Date.now();
    expect(await after(page, () => file.setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: huge }))).toBe(
      'done',
    );
    expect(Date.now() - t).toBeLessThan(60_000);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await after(page, () => page.locator('#samples button').nth(1).click())).toBe('done');
    await page.screenshot({ path: join(ARTIFACTS, 'demo-after-bad-input.png'), fullPage: true });

    // A user's .onnx: the line names the file and what its metadata says (seeded, torchvision's convention).
    const seeded = buildModel({
      arch: 'v3-small',
      resolution: 96,
      convention: 'torchvision',
      weights: fanInFill(1),
      batch: 'dynamic',
    });
    const bytes = Buffer.from(toOnnx(seeded.graph));
    expect(
      await after(page, () =>
        onnx.setInputFiles({ name: 'mine.onnx', mimeType: 'application/octet-stream', buffer: bytes }),
      ),
    ).toBe('done');
    expect(await page.locator('#provenance').textContent()).toMatch(
      /^Weights: mine\.onnx: random weights, so these labels mean nothing\. Convention: torchvision\. Backend: wasm, [2-4] thread\(s\)\.$/,
    );
    expect(await after(page, () => onnx.setInputFiles([]))).toBe('done');
  });

  it("MobileNetV4 from the registry's select: its paper's resolution, and the top-5 onnxruntime-node gives", async () => {
    await page.locator('#onnx').setInputFiles([]);
    expect(await page.locator('#arch option').allTextContents()).toEqual(
      expect.arrayContaining(['v1', 'v3-small', 'v4-conv-small', 'v4-hybrid-medium', 'v4-hybrid-large']),
    );
    await page.locator('#arch').selectOption('v4-hybrid-medium');
    expect(await page.locator('#resolution').inputValue()).toBe('256');
    await page.waitForFunction(
      () =>
        document.body.dataset.model === 'v4-hybrid-medium 1 256 wasm seed 0' && document.body.dataset.state === 'done',
      undefined,
      { timeout: STEP_TIMEOUT_MS },
    );
    const top = await page
      .locator('#top5 li')
      .evaluateAll((lis) => lis.map((li) => Number((li as HTMLElement).dataset.index)));
    const model = buildModel({ arch: 'v4-hybrid-medium', resolution: 256, weights: fanInFill(0), batch: 'dynamic' });
    const node = await createSession(model);
    const [r] = await node.classify([join(DEMO, 'public/samples/coffee.jpg')]);
    await node.release();
    expect(r!.ok && r!.top.map((t) => t.index)).toEqual(top);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-v4.png'), fullPage: true });
  });

  it("loads a timm MobileNetV4 checkpoint in the page (timm's keys, made here) and gives onnxruntime-node's top-5", async () => {
    // timm's mobilenetv4_conv_small state_dict (its keys and shapes) with the formula weights core's v4 tests prove
    // against timm's logits; the probes check this file holds the values timm's fixture was made with.
    const name = 'mobilenetv4_conv_small';
    const keys = (
      JSON.parse(readFileSync(join(TIMM_V4, 'timm-v4-keys.json'), 'utf8')) as {
        models: Record<string, { keys: Record<string, number[]> }>;
      }
    ).models[name]!.keys;
    const { probes } = JSON.parse(readFileSync(join(TIMM_V4, `logits/${name}.json`), 'utf8')) as {
      probes: Record<string, Record<string, number>>;
    };
    for (const [key, values] of Object.entries(probes)) {
      const v = formulaTensor(key, keys[key]!);
      for (const [i, want] of Object.entries(values)) expect(v[Number(i)], `${key}[${i}]`).toBe(Math.fround(want));
    }
    const file = `${name}.safetensors`;
    const bytes = writeSafetensors(formulaCheckpoint(keys));

    // Conv-S at the smallest size the page offers; each change below queues a (cheap) run of its own.
    await page.locator('#arch').selectOption('v4-conv-small');
    await page.locator('#resolution').selectOption('96');
    await page
      .locator('#weights')
      .setInputFiles({ name: file, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.waitForFunction(
      (m) => document.body.dataset.model === m && document.body.dataset.state === 'done',
      `v4-conv-small 1 96 wasm ${file}`,
      { timeout: STEP_TIMEOUT_MS },
    );
    const shown = await page
      .locator('#top5 li')
      .evaluateAll((lis) => lis.map((li) => Number((li as HTMLElement).dataset.index)));
    // The page shows percentages to 2 decimals; its own classify() (the session on screen, reused: same key) gives
    // the probabilities unrounded.
    const page5 = await within(
      STEP_TIMEOUT_MS,
      'classify with the uploaded checkpoint',
      page.evaluate(async () => {
        const weights = (document.getElementById('weights') as HTMLInputElement).files![0]!;
        const image = await (await fetch('samples/coffee.jpg')).blob();
        const choice = { arch: 'v4-conv-small', width: 1, resolution: 96, backend: 'wasm', seed: 0, weights };
        return (window as unknown as DemoWindow).demo.classify(choice, image);
      }),
    );
    expect(page5.backend).toBe('wasm');
    expect(page5.top.map((t) => t.index)).toEqual(shown);

    const m = buildWithWeights(
      { arch: 'v4-conv-small', width: 1, resolution: 96, batch: 'dynamic' },
      readCheckpoint(bytes, file),
      { source: file },
    );
    expect([m.format, m.config.convention]).toEqual(['timm', 'timm']);
    const node = await createSession(m);
    // The image still shown: the second sample, from the bad-input test.
    const [r] = await node.classify([join(DEMO, 'public/samples/coffee.jpg')]);
    await node.release();
    expect(r!.ok).toBe(true);
    if (!r!.ok) return;
    const fmt = (top: Top) => top.map((t) => `${t.index} ${t.probability.toExponential(6)}`).join(', ');
    console.log(
      `v4-conv-small, timm checkpoint, coffee.jpg at 96: page top-5 ${fmt(page5.top)}; onnxruntime-node ${fmt(r!.top)}`,
    );
    expect(page5.top.map((t) => t.index)).toEqual(r!.top.map((t) => t.index));
    page5.top.forEach((t, i) => {
      expect(Math.abs(t.probability - r!.top[i]!.probability), `top-${i + 1}`).toBeLessThan(1e-4);
    });
    await page.screenshot({ path: join(ARTIFACTS, 'demo-v4-timm-checkpoint.png'), fullPage: true });
    await page.locator('#weights').setInputFiles([]);
    await page.waitForFunction(
      () => document.body.dataset.model === 'v4-conv-small 1 96 wasm seed 0' && document.body.dataset.state === 'done',
      undefined,
      { timeout: STEP_TIMEOUT_MS },
    );
  });
});

describe.skipIf(missing !== null)('demo without WebGPU', () => {
  it('says WebGPU is unavailable, why, and falls back to WASM visibly', async () => {
    const { server, url } = await servePreview({ root: DEMO });
    const browser = await launchChromium({ webgpu: false });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      const status = await page.evaluate(() => (window as unknown as DemoWindow).demo.availableBackends());
      const webgpu = status.find((s) => s.backend === 'webgpu')!;
      expect(webgpu.available).toBe(false);
      expect(webgpu.reason).toMatch(/navigator\.gpu is missing|no WebGPU adapter/);
      await page.locator('#resolution').selectOption('96');
      await page.locator('#backend').selectOption('webgpu');
      await page.locator('#samples button').first().click();
      await page.waitForFunction(() => document.body.dataset.state === 'done', undefined, { timeout: STEP_TIMEOUT_MS });
      expect(await page.locator('#status').textContent()).toMatch(
        /^Backend used: wasm \(WebGPU unavailable: (navigator\.gpu is missing|no WebGPU adapter).*\)/,
      );
      expect(await page.locator('#backends').textContent()).toContain('webgpu: unavailable');
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

describe.skipIf(missing !== null)('demo with pretrained names', () => {
  it("fetches an hf-hub name from the hub (CORS), verifies and builds it in the page: onnxruntime-node's top-5 for the same name; a torchvision mirror's wrong bytes are refused", async () => {
    const hub = await startFakeHub();
    const { server, url } = await servePreview({ root: DEMO });
    const browser = await launchChromium({ webgpu: false });
    const home = mkdtempSync(join(tmpdir(), 'mobilenet-demo-hub-'));
    try {
      const weights = readFileSync(
        join(DEMO, '../../packages/core/test/fixtures/timm/mobilenetv3_small_050.safetensors'),
      );
      const config = {
        architecture: 'mobilenetv3_small_050',
        num_classes: 10,
        pretrained_cfg: { input_size: [3, 96, 96] },
      };
      const name = 'hf-hub:someone/mobilenetv3_small_050.ft10';
      hub.repo('someone/mobilenetv3_small_050.ft10', {
        'config.json': new TextEncoder().encode(JSON.stringify(config)),
        'model.safetensors': weights,
      });
      const page = await browser.newPage();
      page.on('pageerror', (e) => console.error('page error:', e.message));
      await page.goto(url);
      const set = async (id: string, value: string) => {
        await page.locator(id).fill(value);
        await page.locator(id).dispatchEvent('change');
      };
      await page.locator('#sources summary').click();
      await set('#hf-endpoint', hub.url);
      await set('#pretrained', name);
      await page.locator('#samples button').first().click();
      await page.waitForFunction(
        (m) => document.body.dataset.model === m && document.body.dataset.state === 'done',
        `${name} wasm`,
        { timeout: STEP_TIMEOUT_MS },
      );
      expect(await page.locator('#provenance').textContent()).toMatch(
        /^Weights: hf-hub:someone\/mobilenetv3_small_050\.ft10 \(sha256 [0-9a-f]{12}\.\.\., downloaded and verified\)\. Convention: timm\. Backend: wasm/,
      );
      const top = await page.locator('#top5 li').evaluateAll((lis) =>
        lis.map((li) => ({
          index: Number((li as HTMLElement).dataset.index),
          p: Number((li as HTMLElement).dataset.probability),
        })),
      );
      const model = await loadPretrained(name, { batch: 'dynamic' }, { env: { HF_HOME: home, HF_ENDPOINT: hub.url } });
      const node = await createSession(model);
      const [r] = await node.classify([join(DEMO, 'public/samples/chelsea.jpg')]);
      await node.release();
      if (!r!.ok) throw new Error(r!.error);
      expect(top.map((t) => t.index)).toEqual(r!.top.map((t) => t.index));
      for (const [i, t] of top.entries()) expect(t.p).toBeCloseTo(r!.top[i]!.probability, 4);

      // torchvision's own name through a mirror that serves other bytes: refused in the page, in words.
      hub.torchvision('mobilenet_v3_small-047dcff4.pth', new Uint8Array(1000).fill(7));
      await set('#torchvision-url', `${hub.url}/models`);
      await set('#pretrained', 'torchvision:mobilenet_v3_small');
      // Changing two fields queues two runs; wait for the one that read both.
      await page.waitForFunction(
        (m) => document.body.dataset.model === m && document.body.dataset.state === 'error',
        'torchvision:mobilenet_v3_small wasm',
        { timeout: STEP_TIMEOUT_MS },
      );
      expect(await page.locator('#error').textContent()).toContain(
        `weights 'torchvision:mobilenet_v3_small.IMAGENET1K_V1': expected the bytes of ${hub.url}/models/mobilenet_v3_small-047dcff4.pth: sha256 047dcff4... (the file name's)`,
      );
    } finally {
      await browser.close();
      await server.close();
      await hub.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
