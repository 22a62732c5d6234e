import { buildModel, fanInFill, toOnnx } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';
import { fixedInput, maxAbs, maxAbsDiff } from '@mobilenet/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile, startTfjs, toNhwc } from './tfjs.js';

// The TF.js peer runs our graph with its own ops: before its times mean anything, its logits must be ours. The bench
// checks this per cell at run time; this test covers every family (v4's attention included) at a small size.
describe('the TensorFlow.js translation of our graphs', () => {
  beforeAll(async () => {
    await startTfjs('cpu', 1);
  });

  const cases = [
    ['v1', 'torchvision'],
    ['v2', 'torchvision'],
    ['v3-large', 'torchvision'],
    ['v3-small', 'torchvision'],
    ['v4-conv-small', 'timm'],
    ['v4-hybrid-medium', 'timm'],
    ['v4-hybrid-large', 'reference'],
  ] as const;
  for (const [arch, convention] of cases) {
    it(`${arch} (${convention}) at 64x64 gives onnxruntime-node's logits`, async () => {
      const model = buildModel({ arch, convention, resolution: 64, weights: fanInFill(1) });
      const x = fixedInput(1, 64);
      const session = await createSession(toOnnx(model.graph));
      const want = await session.logits(x, 1);
      await session.release();
      const y = compile(model.graph)(toNhwc(x, 1, 3, 64, 64));
      const got = (await y.data()) as Float32Array;
      y.dispose();
      expect(maxAbsDiff(got, want) / maxAbs(want)).toBeLessThan(1e-4);
    });
  }
});
