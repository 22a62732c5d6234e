// Half-precision files on WebGPU (onnxruntime-node's Dawn provider; SwiftShader without a GPU, small sizes). fp16
// shaders need the adapter's shader-f16 feature; SwiftShader lacks it, and then `fallback` runs the file on CPU, saying why.
import { buildModel, fanInFill, toFloat16, toOnnx } from '@mobilenet/core';
import { useSwiftShader } from '@mobilenet/test-support/swiftshader';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

const skip = useSwiftShader();

const sqnr = (ref: ArrayLike<number>, cand: ArrayLike<number>) => {
  let s = 0;
  let n = 0;
  for (let i = 0; i < ref.length; i++) (s += ref[i]! ** 2), (n += (ref[i]! - cand[i]!) ** 2);
  return 10 * Math.log10(s / n);
};

describe.skipIf(skip !== null)(`fp16 on WebGPU ${skip ? `(skipped: ${skip})` : ''}`, () => {
  it.each(['v2', 'v3-small'] as const)(
    '%s at 64x64: float32 in and out, close to float32; a visible fallback without shader-f16',
    { timeout: 180_000 },
    async (arch) => {
      const m = buildModel({ arch, resolution: 64, weights: fanInFill(3), convention: 'torchvision' });
      const x = new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i * 0.37) * 2);
      const gpu = await createSession(toOnnx(toFloat16(m.graph)), { backend: 'webgpu', fallback: true });
      const cpu = await createSession(m);
      if (gpu.backend !== 'webgpu') {
        console.log(`fp16 on WebGPU fell back to ${gpu.backend}: ${gpu.fallbackReason}`);
        expect(gpu.fallbackReason).toMatch(/requires f16 but the device does not support it/);
      }
      const [a, b] = [await gpu.logits(x, 1), await cpu.logits(x, 1)];
      await Promise.all([gpu.release(), cpu.release()]);
      // Random fan-in v2 amplifies rounding (core's float16.test.ts measures 29.5 dB on CPU fp16); v3-small does not.
      expect(sqnr(b, a)).toBeGreaterThan(arch === 'v2' ? 25 : 40);
    },
  );
});
