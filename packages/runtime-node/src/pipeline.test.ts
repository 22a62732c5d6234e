import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { buildModel, fanInFill, preprocess } from '@mobilenet/core';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeFor } from './decode-fast.js';
import {
  type BatchStats,
  type ImageInput,
  type ImageTiming,
  createSession,
  decodeImage,
  startDecoders,
} from './index.js';

const fix = (f: string) => join(import.meta.dirname, '../test/fixtures', f);
const model = (batch: 'dynamic' | 1 = 'dynamic') =>
  buildModel({
    arch: 'v3-small',
    convention: 'torchvision',
    resolution: 96,
    weights: fanInFill(1),
    ...(batch === 'dynamic' && { batch }),
    embedding: true,
  });
const collect = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('classifyAll / embedAll', () => {
  const names = [
    'scene.png',
    'missing.png',
    'tall.png',
    'truncated.jpg',
    'gray.png',
    'not-an-image.jpg',
    'scene.jpg',
    'cmyk.jpg',
    'rgba.png',
    'tiny.png',
    'gray16.png',
  ];

  it("gives classify()'s answers in input order, bad images named in place, for automatic and fixed batches", async () => {
    const session = await createSession(model(), { maxBatch: 4 });
    const paths = [...names, ...names].map(fix);
    const expected = await session.classify(paths, { topK: 3 });
    for (const o of [{}, { batch: 3 }, { maxBatch: 2, decoders: 1 }]) {
      const got = await collect(session.classifyAll(paths, { topK: 3, ...o }));
      expect(got.map((r) => r.image)).toEqual(paths);
      got.forEach((r, i) => {
        const e = expected[i]!;
        expect(r.ok, r.image).toBe(e.ok);
        if (r.ok && e.ok) {
          expect(r.top.map((p) => p.index)).toEqual(e.top.map((p) => p.index));
          for (const [j, p] of r.top.entries()) expect(p.probability).toBeCloseTo(e.top[j]!.probability, 5);
        } else {
          // libvips words a damaged JPEG in several ways, depending on timing (see runtime.test.ts): the image's
          // name and 'cannot decode' are what must match.
          const same = (m: string) => m.replace(/: cannot decode: .*$/s, ': cannot decode: (libvips message)');
          expect({ ...r, error: same((r as { error: string }).error) }).toEqual({
            ...e,
            error: same((e as { error: string }).error),
          });
        }
      });
    }
    expect(expected.filter((r) => !r.ok).map((r) => r.image.split('/').pop())).toEqual([
      'missing.png',
      'truncated.jpg',
      'not-an-image.jpg',
      'missing.png',
      'truncated.jpg',
      'not-an-image.jpg',
    ]);
    await session.release();
  });

  it('pads the last batch of a fixed-batch model and embeds from an async iterable', async () => {
    const fixed = await createSession(model(1));
    const dyn = await createSession(model());
    async function* gen(): AsyncGenerator<ImageInput> {
      for (const n of ['scene.png', 'missing.png', 'tall.png']) yield fix(n);
    }
    const a = await collect(fixed.embedAll(gen()));
    const b = await dyn.embed(['scene.png', 'missing.png', 'tall.png'].map(fix));
    expect(a.map((r) => r.ok)).toEqual([true, false, true]);
    for (const [i, r] of a.entries())
      if (r.ok) expect(maxAbs(r.embedding, (b[i] as typeof r).embedding)).toBeLessThan(1e-4);
    await Promise.all([fixed.release(), dyn.release()]);
  });

  it('reads sources lazily: the images held at once stay bounded however many there are', async () => {
    const session = await createSession(model());
    let pulled = 0;
    function* many(): Generator<ImageInput> {
      for (let i = 0; i < 1_000_000; i++) {
        pulled++;
        yield fix('scene.png');
      }
    }
    let consumed = 0;
    for await (const r of session.classifyAll(many(), { batch: 2, decoders: 2 })) {
      expect(r.ok).toBe(true);
      if (++consumed === 7) break;
    }
    // A batch of 2 being yielded, two more batches and the decoders ahead: 2 * 2 + 2 queued past what was consumed.
    expect(pulled).toBeLessThanOrEqual(consumed + 1 + 2 * 2 + 2);
    await session.release();
  });

  it("reports each image's decode times in order and the decodes in flight per batch: fixed when asked, else grown from the start", async () => {
    const session = await createSession(model());
    const paths = Array.from({ length: 12 }, (_, i) => fix(i === 5 ? 'missing.png' : 'scene.jpg'));
    for (const decoders of [3, undefined]) {
      const timings: ImageTiming[] = [];
      const batches: BatchStats[] = [];
      const o = { batch: 4, onImage: (t: ImageTiming) => timings.push(t), onBatch: (s: BatchStats) => batches.push(s) };
      await collect(session.classifyAll(paths, decoders ? { ...o, decoders } : o));
      expect(timings.map((t) => t.index).sort((a, b) => a - b)).toEqual(paths.map((_, i) => i));
      for (const t of timings) {
        expect(t.queued).toBeLessThanOrEqual(t.decodeStart);
        expect(t.decodeStart).toBeLessThanOrEqual(t.decodeEnd);
        expect(t.decodeEnd).toBeLessThanOrEqual(t.preprocessEnd);
        expect(t.ok).toBe(t.index !== 5);
        expect(t.name).toBe(paths[t.index]);
      }
      expect(batches.map((b) => b.images)).toEqual([4, 5, 3]); // the failed image travels with the second batch
      for (const b of batches) expect(b.runStart).toBeLessThanOrEqual(b.runEnd);
      const d = batches.map((b) => b.decoders);
      if (decoders) expect(d).toEqual([3, 3, 3]);
      else {
        expect(d[0]).toBe(startDecoders(availableParallelism()));
        for (let i = 1; i < d.length; i++) expect(d[i]).toBeGreaterThanOrEqual(d[i - 1]!);
      }
    }
    await session.release();
  });

  it('refuses bad options and a lone string, naming them', async () => {
    const session = await createSession(model());
    await expect(collect(session.classifyAll([fix('scene.png')], { batch: 0 }))).rejects.toThrow(
      'option batch: expected an integer from 1 to 1024, received 0',
    );
    await expect(collect(session.classifyAll([fix('scene.png')], { decode: 'fast' as 'exact' }))).rejects.toThrow(
      'option decode: expected one of exact, shrink-on-load, received fast',
    );
    await expect(collect(session.classifyAll(fix('scene.png') as unknown as string[]))).rejects.toThrow(
      /sources: expected an iterable of images/,
    );
    const plain = await createSession(buildModel({ arch: 'v3-small', resolution: 64, weights: 1 }));
    await expect(collect(plain.embedAll([fix('scene.png')]))).rejects.toThrow(/expected an 'embedding' output/);
    await Promise.all([session.release(), plain.release()]);
  });
});

describe('shrink-on-load decode option', () => {
  const pre = {
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    resizeMode: 'crop',
    resize: 109,
    size: 96,
    interpolation: 'bilinear',
  } as const;
  // A 1280x960 photo-like JPEG (scene.png enlarged smoothly), EXIF-rotated and CMYK variants of it.
  const big = () => sharp(fix('scene.png')).resize(1280, 960, { kernel: 'cubic' });

  it('decodes a large JPEG at the resize target, close to the exact path; small images stay exact', async () => {
    const bytes = await big().jpeg({ quality: 90 }).toBuffer();
    const exact = await decodeFor(bytes, 'big.jpg', pre, 'exact');
    const fast = await decodeFor(bytes, 'big.jpg', pre, 'shrink-on-load');
    expect([exact.width, exact.height]).toEqual([1280, 960]);
    expect([fast.width, fast.height]).toEqual([145, 109]);
    const d = maxAbs(preprocess(fast, pre), preprocess(exact, pre));
    // In normalized units (1/255/std per level): a few levels at sharp edges, not a different picture.
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(0.5);
    // 320x240 for Resize(256): under twice the target, so the exact path.
    const small = await decodeFor(fix('scene.jpg'), 'scene.jpg', { ...pre, resize: 256, size: 224 }, 'shrink-on-load');
    expect(small).toEqual(await decodeImage(fix('scene.jpg'), 'scene.jpg'));
  });

  it('keeps EXIF orientation, CMYK and errors as the exact path does', async () => {
    const rotated = await big().jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer();
    const exact = await decodeFor(rotated, 'rotated.jpg', pre, 'exact');
    const fast = await decodeFor(rotated, 'rotated.jpg', pre, 'shrink-on-load');
    expect([exact.width, exact.height]).toEqual([960, 1280]);
    expect([fast.width, fast.height]).toEqual([109, 145]);
    expect(maxAbs(preprocess(fast, pre), preprocess(exact, pre))).toBeLessThan(0.5);
    const cmyk = await big().toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer();
    expect(
      maxAbs(
        preprocess(await decodeFor(cmyk, 'cmyk.jpg', pre, 'shrink-on-load'), pre),
        preprocess(await decodeFor(cmyk, 'cmyk.jpg', pre, 'exact'), pre),
      ),
    ).toBeLessThan(0.5);
    for (const bad of ['truncated.jpg', 'not-an-image.jpg', 'missing.png']) {
      const err = await decodeFor(fix(bad), bad, pre, 'exact').catch((e: Error) => e.message);
      expect(await decodeFor(fix(bad), bad, pre, 'shrink-on-load').catch((e: Error) => e.message)).toBe(err);
    }
  });
});
