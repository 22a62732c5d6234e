import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Preprocessing, buildModel, fanInFill, GraphBuilder, preprocess, toOnnx } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { maxAbs, maxAbsDiff, skipUnless } from '@mobilenet/test-support';
import { availableBackends, createSession, decodeImage, ortBinaryDir } from './index.js';

const FIX = join(import.meta.dirname, '../test/fixtures');
const fix = (f: string) => join(FIX, f);
// torchvision's transforms on the same decoded pixels: tools/fixtures/images.py.
const REF = JSON.parse(readFileSync(fix('reference.json'), 'utf8')) as {
  mean: [number, number, number];
  std: [number, number, number];
  cases: Record<string, { resize: number | null; crop: number; interpolation: 'bilinear' | 'bicubic' }>;
};
const reference = (name: string) => {
  const b = readFileSync(fix(`reference-${name}.bin`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

describe('preprocessing matches torchvision (Resize antialias, CenterCrop, Normalize)', () => {
  for (const [name, c] of Object.entries(REF.cases)) {
    it(name, async () => {
      const file = `${name.split('-')[0]}.png`;
      const pre: Preprocessing = {
        mean: REF.mean,
        std: REF.std,
        resizeMode: c.resize ? 'crop' : 'squash',
        resize: c.resize ?? c.crop,
        size: c.crop,
        interpolation: c.interpolation,
      };
      const ours = preprocess(await decodeImage(fix(file), file), pre);
      expect(maxAbsDiff(ours, reference(name))).toBeLessThan(1e-4);
    });
  }
});

// A torchvision-convention v3-small at 96x96 with seeded weights, and its preprocessing matching the reference.
const model = () =>
  buildModel({
    arch: 'v3-small',
    convention: 'torchvision',
    resolution: 96,
    weights: fanInFill(1),
    batch: 'dynamic',
    embedding: true,
  });

describe('classify end to end', () => {
  it('gives the logits that plain onnxruntime gives on torchvision-preprocessed pixels', async () => {
    const m = model();
    const session = await createSession(m);
    expect(session.info.preprocessing).toEqual({
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      resizeMode: 'crop',
      resize: 109,
      size: 96,
      interpolation: 'bilinear',
    });
    const res = (await session.classify([fix('scene.png')], { topK: 5 }))[0]!;
    const plain = await ort.InferenceSession.create(toOnnx(m.graph));
    const out = await plain.run({
      input: new ort.Tensor('float32', reference('scene-crop-96-bilinear'), [1, 3, 96, 96]),
    });
    const logits = out.logits!.data as Float32Array;
    const expected = Array.from(logits.keys())
      .sort((a, b) => logits[b]! - logits[a]!)
      .slice(0, 5);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.top.map((p) => p.index)).toEqual(expected);
    expect(res.top[0]!.label).toBe(session.info.labels[expected[0]!]);
    const z = Math.max(...logits);
    const sum = logits.reduce((a, v) => a + Math.exp(v - z), 0);
    expect(res.top[0]!.probability).toBeCloseTo(1 / sum, 5);
    // And the raw logits through the wrapper equal plain onnxruntime's on the same tensor.
    expect(maxAbsDiff(await session.logits(reference('scene-crop-96-bilinear'), 1), logits)).toBe(0);
    await Promise.all([session.release(), plain.release()]);
  });

  it('reports bad images by name in a batch and keeps the others; accepts gray, 16-bit, CMYK, alpha, 1x1, WebP, JPEG', async () => {
    const session = await createSession(model());
    const names = [
      'scene.png',
      'missing.png',
      'truncated.jpg',
      'not-an-image.jpg',
      'gray.png',
      'gray16.png',
      'cmyk.jpg',
      'rgba.png',
      'tiny.png',
      'scene.webp',
      'scene.jpg',
    ];
    const results = await session.classify(names.map(fix), { topK: 3 });
    expect(results.map((r) => r.image)).toEqual(names.map(fix));
    const byName = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
    expect(byName['missing.png']).toEqual({
      image: fix('missing.png'),
      ok: false,
      error: `${fix('missing.png')}: no such file`,
    });
    expect(byName['truncated.jpg']).toMatchObject({
      ok: false,
      error: expect.stringMatching(
        /truncated\.jpg: cannot decode: (VipsJpeg: premature end of JPEG image|corrupt or truncated image data)/,
      ),
    });
    expect(byName['not-an-image.jpg']).toMatchObject({
      ok: false,
      error: expect.stringContaining('not-an-image.jpg: cannot decode: not an image'),
    });
    for (const n of [
      'scene.png',
      'gray.png',
      'gray16.png',
      'cmyk.jpg',
      'rgba.png',
      'tiny.png',
      'scene.webp',
      'scene.jpg',
    ])
      expect(byName[n]!.ok, n).toBe(true);
    const top = (n: string) => (byName[n] as unknown as { top: { index: number; probability: number }[] }).top;
    expect(top('rgba.png')).toEqual(top('scene.png')); // alpha dropped, RGB identical
    expect(top('scene.webp')).toEqual(top('scene.png')); // lossless WebP
    expect(top('gray16.png')[0]!.probability).toBeCloseTo(top('gray.png')[0]!.probability, 4);
    await session.release();
  });

  it('batches a dynamic-batch model and a fixed-batch model alike, with the same answers', async () => {
    const dyn = await createSession(model(), { maxBatch: 2 });
    const fixed = await createSession(
      buildModel({ arch: 'v3-small', convention: 'torchvision', resolution: 96, weights: fanInFill(1) }),
    );
    expect([dyn.fixedBatch, fixed.fixedBatch]).toEqual([null, 1]);
    const imgs = ['scene.png', 'tall.png', 'gray.png'].map(fix);
    const a = await dyn.classify(imgs);
    const b = await fixed.classify(imgs);
    expect(a.map((r) => r.ok && r.top[0]!.index)).toEqual(b.map((r) => r.ok && r.top[0]!.index));
    a.forEach((r, i) => {
      if (r.ok) expect(r.top[0]!.probability).toBeCloseTo((b[i] as typeof r).top[0]!.probability, 5);
    });
    await Promise.all([dyn.release(), fixed.release()]);
  });

  it('embeds: the pooled 576-vector of v3-small', async () => {
    const session = await createSession(model());
    const [e] = await session.embed([fix('scene.png')]);
    expect(e!.ok && e!.embedding.length).toBe(576);
    await session.release();
    const noEmbedding = await createSession(buildModel({ arch: 'v3-small', resolution: 64, weights: 1 }));
    await expect(noEmbedding.embed([fix('scene.png')])).rejects.toThrow(/expected an 'embedding' output/);
    await noEmbedding.release();
  });

  it('accepts raw RGBA pixels and reads the preprocessing of a file we exported', async () => {
    const session = await createSession(
      toOnnx(buildModel({ arch: 'v2', convention: 'keras', resolution: 64, weights: 2 }).graph),
    );
    expect(session.info.preprocessing).toMatchObject({ mean: [0.5, 0.5, 0.5], resizeMode: 'squash', size: 64 });
    expect(session.info.labels).toHaveLength(1000);
    const img = await decodeImage(fix('scene.png'), 'scene');
    const data = new Uint8Array(img.width * img.height * 4);
    for (let i = 0; i < img.width * img.height; i++)
      data.set([img.data[3 * i]!, img.data[3 * i + 1]!, img.data[3 * i + 2]!, 7], 4 * i);
    const [raw, file] = await session.classify([
      { name: 'pixels', data, width: img.width, height: img.height, channels: 4 },
      fix('scene.png'),
    ]);
    expect(raw!.image).toBe('pixels');
    expect((raw as { top: unknown }).top).toEqual((file as { top: unknown }).top);
    const [bad] = await session.classify([
      { name: 'short', data: new Uint8Array(5), width: 2, height: 2, channels: 3 },
    ]);
    expect(bad).toEqual({ image: 'short', ok: false, error: 'short: expected 12 bytes for 2x2x3, received 5' });
    await session.release();
  });

  it("a foreign model without our metadata gets torchvision's preprocessing for its input size, and says so", async () => {
    const { graph } = buildModel({
      arch: 'v3-small',
      convention: 'torchvision',
      resolution: 128,
      weights: fanInFill(2),
    });
    const session = await createSession(toOnnx({ ...graph, metadata: {} }));
    expect(session.info.preprocessingSource).toBe('default');
    expect(session.info.preprocessing).toEqual({
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      resizeMode: 'crop',
      resize: 146,
      size: 128,
      interpolation: 'bilinear',
    });
    const [r] = await session.classify([fix('scene.jpg')]);
    expect(r!.ok).toBe(true);
    await session.release();
  });

  it('reference-convention models have 1001 labels with background first', async () => {
    const session = await createSession(buildModel({ arch: 'v3-small', resolution: 64, weights: 1 }));
    expect(session.info.labels).toHaveLength(1001);
    expect(session.info.labels.slice(0, 2)).toEqual(['background', 'tench']);
    await session.release();
  });
});

// CUDA is optional (CI has no GPU): whichever state this machine is in, one of the two CUDA tests runs.
const cuda = (await availableBackends()).find((b) => b.backend === 'cuda')!;
const cudaSkip = skipUnless('CUDA', cuda.available ? null : cuda.reason!, false);

describe('bad models and options', () => {
  it('a model whose input is not [N, 3, H, H] is refused, naming it', async () => {
    const b = new GraphBuilder('seq');
    b.output(b.relu(b.input('tokens', [1, 128]), 'y'));
    await expect(createSession(toOnnx(b.build()))).rejects.toThrow(
      "model 'model bytes': expected one image input of shape [N, 3, H, H] with a fixed H, received tokens [1, 128]",
    );
  });

  it('a missing model file is named', async () => {
    await expect(createSession('/nowhere/model.onnx')).rejects.toThrow(
      "model file '/nowhere/model.onnx': expected a readable .onnx file, received no such file",
    );
  });

  it('lists cpu (available), cuda and webgpu, with a reason for each one that is not available', async () => {
    const status = await availableBackends();
    expect(status.map((s) => s.backend)).toEqual(['cpu', 'cuda', 'webgpu']);
    expect(status[0]).toEqual({ backend: 'cpu', available: true });
    for (const s of status)
      expect(s.reason, s.backend).toEqual(s.available ? undefined : expect.stringMatching(new RegExp(s.backend, 'i')));
    // Without its libraries, the reason names the missing file and where it was looked for.
    if (!existsSync(join(ortBinaryDir(), 'libonnxruntime_providers_cuda.so')))
      expect(cuda.reason).toContain(`libonnxruntime_providers_cuda.so is not in ${ortBinaryDir()}`);
  });

  it("checking backends writes nothing on stderr: Dawn's warnings stay in the probe process", () => {
    // Without VK_ICD_FILENAMES, Dawn finds no driver and warns on file descriptor 2 of the process it runs in.
    const env = { ...process.env };
    delete env.VK_ICD_FILENAMES;
    const script = `import { availableBackends } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'index.ts')).href)};
      const list = await availableBackends(); await availableBackends(); console.log(JSON.stringify(list));`;
    const r = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script],
      { encoding: 'utf8', env },
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).map((b: { backend: string }) => b.backend)).toEqual(['cpu', 'cuda', 'webgpu']);
  });

  // Which CUDA test runs depends on whether a CUDA session actually starts here (availableBackends tries one).
  it.skipIf(cuda.available)(
    `CUDA unavailable: reported with the reason; an error, or CPU with fallback ${cuda.available ? '(skipped: CUDA works here, the next test runs)' : ''}`,
    async () => {
      const why = cuda.reason!.split(':')[0]!;
      await expect(createSession(model(), { backend: 'cuda' })).rejects.toThrow(
        `option backend 'cuda': expected a backend that works here, received ${why}`,
      );
      const s = await createSession(model(), { backend: 'cuda', fallback: true });
      expect([s.backend, s.requestedBackend]).toEqual(['cpu', 'cuda']);
      expect(s.fallbackReason).toContain(why);
      const [r] = await s.classify([fix('scene.png')]);
      expect(r!.ok).toBe(true);
      await s.release();
    },
  );

  it.skipIf(!cuda.available)(
    `CUDA: a session runs on cuda, without fallback, with CPU's logits ${cudaSkip ? `(skipped: ${cudaSkip})` : ''}`,
    async () => {
      const x = reference('scene-crop-96-bilinear');
      const gpu = await createSession(model(), { backend: 'cuda' });
      const cpu = await createSession(model());
      expect([gpu.backend, gpu.fallbackReason]).toEqual(['cuda', undefined]);
      const [a, b] = [await gpu.logits(x, 1), await cpu.logits(x, 1)];
      // Another device sums in another order (and may use TF32): agree to 1e-3 of the logits' scale.
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-3 * Math.max(1, maxAbs(b)));
      const [r] = await gpu.classify([fix('scene.png')]);
      expect(r!.ok).toBe(true);
      await Promise.all([gpu.release(), cpu.release()]);
    },
  );

  it('rejects a bad thread count and topK', async () => {
    await expect(createSession(model(), { threads: 0 })).rejects.toThrow(
      'option threads: expected an integer from 1 to 256, received 0',
    );
    const s = await createSession(model());
    await expect(s.classify([fix('scene.png')], { topK: 0 })).rejects.toThrow(
      'option topK: expected a positive integer, received 0',
    );
    await s.release();
  });
});
