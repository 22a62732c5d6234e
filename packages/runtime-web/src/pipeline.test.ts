// classifyAll in Node (WASM): decoded pixels in, results in input order, the same as classify, batches of any size;
// a bad image yields its named error; options are checked. The browser paths (Blobs, a worker) are in e2e/.
import { join } from 'node:path';
import { buildModel, fanInFill } from '@mobilenet/core';
import { decodeImage } from '@mobilenet/runtime-node';
import { describe, expect, it } from 'vitest';
import { type WebImage, classifyAll, createSession } from './index.js';

const FIX = join(import.meta.dirname, '../../runtime-node/test/fixtures');

describe('classifyAll (runtime-web, in Node)', () => {
  it('yields in input order what classify gives, across batches, with a bad image named and the rest going on', async () => {
    const session = await createSession(
      buildModel({
        arch: 'v3-small',
        convention: 'torchvision',
        resolution: 64,
        weights: fanInFill(2),
        batch: 'dynamic',
      }),
    );
    const scene = { ...(await decodeImage(join(FIX, 'scene.png'), 'scene')), name: 'scene' };
    const tall = { ...(await decodeImage(join(FIX, 'tall.png'), 'tall')), name: 'tall' };
    const bad = { name: 'bad', data: new Uint8Array(5), width: 2, height: 2, channels: 3 as const };
    const images: WebImage[] = [scene, tall, bad, tall, scene, scene, tall];
    const want = await session.classify(images, { topK: 3 });
    async function* slowly() {
      for (const img of images) yield await Promise.resolve(img);
    }
    for (const batch of [1, 2, 8]) {
      const got = [];
      for await (const r of classifyAll(session, slowly(), { batch, topK: 3 })) got.push(r);
      expect(got, `batch ${batch}`).toEqual(want);
    }
    expect(want[2]).toMatchObject({ image: 'bad', ok: false });
    await session.release();
  });

  it('checks its options, and says workers need a page', async () => {
    const session = await createSession(
      buildModel({ arch: 'v3-small', convention: 'torchvision', resolution: 32, width: 0.35, weights: fanInFill(1) }),
    );
    const first = (o: object) => classifyAll(session, [], o).next();
    await expect(first({ batch: 0 })).rejects.toThrow('option batch: expected a positive integer, received 0');
    await expect(first({ workers: -1 })).rejects.toThrow(
      'option workers: expected a non-negative integer, received -1',
    );
    await expect(first({ decode: 'fast' })).rejects.toThrow(
      "option decode: expected 'exact' or 'resize-on-decode', received fast",
    );
    await expect(first({ workers: 1 })).rejects.toThrow(
      'option workers: expected 0 here (no Web Worker outside a page), received 1',
    );
    await session.release();
  });
});
