// The library enforces the CLI's caps (issue 23), with the same escape: each refusal is a MobileNetError naming the
// option, the rule and the value, where a raw RangeError or std::bad_alloc came before.
import { MobileNetError, buildModel, preprocess, resolveOptions } from '@mobilenet/core';
import { describe, expect, it } from 'vitest';
import { createSession } from './session.js';

const small = { arch: 'v3-small', convention: 'torchvision', resolution: 32, width: 0.35, weights: 1 } as const;

describe('library caps', () => {
  it('buildModel: resolution 1e9 and 1e9 classes are refused; allowLarge lifts the cap', () => {
    expect(() => buildModel({ ...small, resolution: 2 ** 30 })).toThrow(
      'option resolution: expected at most 1024 (allowLarge lifts the cap), received 1073741824',
    );
    expect(() => buildModel({ ...small, classes: 1e9 })).toThrow(
      'option classes: expected at most 32768 (allowLarge lifts the cap), received 1000000000',
    );
    expect(resolveOptions({ ...small, classes: 40000, allowLarge: true }).classes).toBe(40000);
  });

  it('threads 1e9, maxBatch 1e7, classifyAll batch 1e7 and preprocess size 0 are refused by name', async () => {
    const model = buildModel(small);
    await expect(createSession(model, { threads: 1e9 })).rejects.toThrow(
      'option threads: expected an integer from 1 to 256, received 1000000000',
    );
    await expect(createSession(model, { maxBatch: 1e7 })).rejects.toThrow(
      'option maxBatch: expected an integer from 1 to 1024, received 10000000',
    );
    const session = await createSession(model);
    try {
      const all = session.classifyAll(['x.png'], { batch: 1e7 });
      await expect(all.next()).rejects.toThrow('option batch: expected an integer from 1 to 1024, received 10000000');
    } finally {
      await session.release();
    }
    const img = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 as const };
    const pre = { ...session.info.preprocessing, size: 0 };
    expect(() => preprocess(img, pre)).toThrow(MobileNetError);
    expect(() => preprocess(img, pre)).toThrow(
      'option preprocessing.size: expected an integer from 1 to 16384, received 0',
    );
  });
});
