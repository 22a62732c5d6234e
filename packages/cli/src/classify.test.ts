import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GraphBuilder, fanInFill, summarizeOnnx, toOnnx } from '@mobilenet/core';
import { afterAll, describe, expect, it } from 'vitest';
import { blankPng, cleanTmp, run, runMeasured, tmp } from '../test/testing.js';

afterAll(cleanTmp);

const FIX = resolve(import.meta.dirname, '../../runtime-node/test/fixtures');
const TIMM = resolve(import.meta.dirname, '../../core/test/fixtures/timm/mobilenetv3_small_050.safetensors');
const MB = 2 ** 20;
const tiny = ['--arch', 'v3-small', '--resolution', '32', '--width', '0.35'];

/** Writes `count` copies of a blank PNG of `side` x `side` and returns their paths. */
async function pngs(side: number, count: number): Promise<string[]> {
  const dir = tmp();
  const bytes = await blankPng(side, side);
  return Array.from({ length: count }, (_, i) => {
    const file = join(dir, `img${i}.png`);
    writeFileSync(file, bytes);
    return file;
  });
}

describe('classify within bounded memory', () => {
  it('16 PNGs of 16384 x 16384 (805 MB of pixels each) are refused from their headers: under 1 GB, each named', async () => {
    const images = await pngs(16384, 16);
    const t0 = performance.now();
    const r = await runMeasured(['classify', ...images, ...tiny, '--json']);
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `16 x 16384^2 PNG: exit ${r.code}, peak RSS ${(r.peakRss / MB).toFixed(0)} MiB, ${seconds.toFixed(1)} s (busy machine)`,
    );
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as { image: string; ok: boolean; error?: string }[];
    expect(results.map((x) => x.image)).toEqual(images);
    for (const x of results)
      expect(x.error).toBe(
        `${x.image}: 16384x16384 is 268435456 pixels, more than the 100000000 allowed (raise the limit with maxPixels, or --max-pixels)`,
      );
    expect(r.peakRss).toBeLessThan(1024 * MB);
  });

  it('with the limit raised, images are decoded a budget at a time, not all at once', async () => {
    const images = await pngs(2048, 16);
    // The same process and model with every image refused from its header: what the decoding adds is the difference.
    const baseline = await runMeasured(['classify', ...images, ...tiny, '--max-pixels', '1000']);
    const bounded = await runMeasured(['classify', ...images, ...tiny, '--max-pixels', String(2048 * 2048)]);
    const added = (bounded.peakRss - baseline.peakRss) / MB;
    console.log(
      `16 x 2048^2 PNG (12 MiB of pixels each), one at a time: peak RSS ${(bounded.peakRss / MB).toFixed(0)} MiB, ${added.toFixed(0)} MiB over the baseline`,
    );
    expect(baseline.code).toBe(1);
    expect(bounded.code, bounded.stderr).toBe(0);
    // All 16 decoded at once measured about +200 MiB here; one at a time about +60 MiB.
    expect(added).toBeLessThan(130);
  });
});

describe('classify output', () => {
  it('--verbose says how the run shares the cores and, after it, what it measured (classify and embed)', async () => {
    const files = await pngs(40, 6);
    const r = await run('classify', ...files, ...tiny, '--threads', '1', '--verbose');
    expect(r.code).toBe(0);
    expect(r.err).toContain('mobilenet classify: model threads 1 (--threads)');
    expect(r.err).toContain('mobilenet classify: spinning off: decodes share the cores');
    expect(r.err).toMatch(/mobilenet classify: decodes in flight \d+ to begin with/);
    expect(r.err).toMatch(
      /mobilenet classify: measured: 6 images in \d+ batches .* ms per image, \d+% of \d+ cores busy/,
    );
    expect(r.err).toMatch(
      /measured: [\d.]+ ms of CPU per image: the model at most [\d.]+, decoding, preprocessing and the rest at least/,
    );
    const one = await run('classify', files[0]!, ...tiny, '--verbose');
    expect(one.err).toContain("spinning on (onnxruntime's default): one image");
    const quiet = await run('classify', ...files, ...tiny);
    expect(quiet.err).not.toContain('measured:');
    const out = join(tmp(), 'e.npy');
    const e = await run('embed', ...files, ...tiny, '-o', out, '--verbose');
    expect(e.code).toBe(0);
    expect(e.err).toMatch(/mobilenet embed: measured: 6 images in \d+ batches/);
  });

  it('a missing image gives its error and no empty table', async () => {
    const r = await run('classify', 'nothere.jpg', ...tiny);
    expect(r).toMatchObject({ code: 1, out: '' });
    expect(r.err).toContain('mobilenet classify: nothere.jpg: no such file');
  });

  it('export records whether weights are seeded or trained; classify says when the labels carry no meaning', async () => {
    const dir = tmp();
    const seeded = join(dir, 'seeded.onnx');
    const trained = join(dir, 'trained.onnx');
    const base = ['--arch', 'v3-small', '--width', '0.5', '--resolution', '96', '--convention', 'timm'];
    expect((await run('export', ...base, '-o', seeded)).code).toBe(0);
    expect((await run('export', ...base, '--weights', TIMM, '-o', trained)).code).toBe(0);
    const config = (f: string) =>
      JSON.parse(summarizeOnnx(readFileSync(f), f).metadata['mobilenet.config']!) as { weights: string };
    expect(config(seeded).weights).toBe('seeded');
    expect(config(trained).weights).toBe('trained');
    const img = join(FIX, 'scene.png');
    const s = await run('classify', img, '--model', seeded);
    expect(s.code).toBe(0);
    expect(s.err).toBe(
      `mobilenet classify: ${seeded} was exported with seeded random weights; the labels carry no meaning\n`,
    );
    const t = await run('classify', img, '--model', trained);
    expect(t).toMatchObject({ code: 0, err: '' });
  });

  it('a model file declaring a 20480 input or 40000 classes is refused before anything is allocated', async () => {
    const dir = tmp();
    const wide = join(dir, 'wide.onnx');
    const many = join(dir, 'many.onnx');
    expect(
      (
        await run(
          'export',
          '--arch',
          'v3-small',
          '--width',
          '0.35',
          '--resolution',
          '20480',
          '--allow-large',
          '-o',
          wide,
        )
      ).code,
    ).toBe(0);
    expect((await run('export', ...tiny, '--classes', '40000', '--allow-large', '-o', many)).code).toBe(0);
    const img = join(FIX, 'scene.png');
    expect(await run('classify', img, '--model', wide)).toMatchObject({
      code: 2,
      err: `mobilenet classify: option --model: expected an input size up to 1024 (pass --allow-large for more), received '${wide}' with input size 20480\n`,
    });
    expect(await run('classify', img, '--model', many)).toMatchObject({
      code: 2,
      err: `mobilenet classify: option --model: expected up to 32768 classes (pass --allow-large for more), received '${many}' with 40000 classes\n`,
    });
  });

  it("--allow-large lifts the library's cap as well: a model of 100001 classes (above core's 100000) classifies", async () => {
    // A foreign head small enough to run: pooled RGB into 100001 logits.
    const b = new GraphBuilder('wide-head', { init: fanInFill(0) });
    const pooled = b.flatten(b.globalAveragePool(b.input('input', [1, 3, 32, 32]), 'pool'), 'flat');
    b.output(b.linear(pooled, 'fc', 100_001, 'logits'));
    const file = join(tmp(), 'wide-head.onnx');
    writeFileSync(file, toOnnx(b.build()));
    const img = join(FIX, 'scene.png');
    expect(await run('classify', img, '--model', file)).toMatchObject({
      code: 2,
      err: expect.stringContaining('expected up to 32768 classes (pass --allow-large for more)'),
    });
    const r = await run('classify', img, '--model', file, '--allow-large', '--top', '2', '--json');
    expect(r).toMatchObject({ code: 0, err: '' });
    const [result] = JSON.parse(r.out) as { ok: boolean; top: { index: number; label: string }[] }[];
    expect(result!.ok).toBe(true);
    expect(result!.top).toHaveLength(2);
    expect(result!.top[0]!.label).toBe(`class ${result!.top[0]!.index}`);
  });
});
