// Quantized (QDQ int8) and half-precision files run in onnxruntime-web's WASM backend (in Node) as in onnxruntime-node.
import { join } from 'node:path';
import { buildModel, fanInFill, quantize, toFloat16, toOnnx } from '@mobilenet/core';
import { createSession as createNodeSession } from '@mobilenet/runtime-node';
import { calibrate } from '@mobilenet/tools';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

const FIXTURES = join(import.meta.dirname, '../../runtime-node/test/fixtures');

const sqnr = (ref: ArrayLike<number>, cand: ArrayLike<number>) => {
  let s = 0;
  let n = 0;
  for (let i = 0; i < ref.length; i++) (s += ref[i]! ** 2), (n += (ref[i]! - cand[i]!) ** 2);
  return 10 * Math.log10(s / n);
};

describe('int8 and fp16 files in onnxruntime-web (WASM)', () => {
  it.each(['v2', 'v3-small'] as const)(
    '%s: as close to float32 on WASM as on onnxruntime-node CPU',
    { timeout: 180_000 },
    async (arch) => {
      const model = buildModel({ arch, convention: 'torchvision', resolution: 64, weights: fanInFill(4) });
      // The runtime's test pictures (non-images in that folder are skipped).
      const { ranges } = await calibrate(model.graph, FIXTURES, { minimum: 6 });
      const x = new Float32Array(3 * 64 * 64).map((_, i) => Math.cos(i * 0.1));
      const float = await createNodeSession(toOnnx(model.graph));
      const ref = await float.logits(x, 1);
      await float.release();
      for (const [name, graph] of [
        ['int8', quantize(model.graph, ranges)],
        ['fp16', toFloat16(model.graph)],
      ] as const) {
        const bytes = toOnnx(graph);
        const web = await createSession(bytes);
        const node = await createNodeSession(bytes);
        expect(web.backend).toBe('wasm');
        const [a, b] = [await web.logits(x, 1), await node.logits(x, 1)];
        await Promise.all([web.release(), node.release()]);
        // WASM runs other kernels (requantization rounding, where fp16 is cast): as close to float32 as the CPU's.
        const [onWeb, onNode] = [sqnr(ref, a), sqnr(ref, b)];
        expect(onWeb, `${name}: WASM ${onWeb.toFixed(1)} dB, CPU ${onNode.toFixed(1)} dB`).toBeGreaterThan(
          Math.min(onNode - 3, name === 'fp16' ? 40 : Infinity),
        );
        expect(onWeb, name).toBeGreaterThan(name === 'fp16' ? 25 : 10); // random v2 weights amplify: see core's float16.test.ts
      }
    },
  );
});
