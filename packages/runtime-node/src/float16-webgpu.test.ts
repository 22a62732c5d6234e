// The MobileNetV4 hybrids' fp16 files on WebGPU (onnxruntime-node's Dawn provider; SwiftShader without a GPU). Their
// attention (MatMul, Softmax kept in float32 with Casts, Transpose, Reshape) adds kernels the convolutional models
// lack; SwiftShader has no shader-f16, so `fallback` must run the file on CPU and say why, as for v2/v3
// (precision-webgpu.test.ts).
import { type ParamFiller, buildModel, fanInFill, toFloat16, toOnnx } from '@mobilenet/core';
import { useSwiftShader } from '@mobilenet/test-support/swiftshader';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

const skip = useSwiftShader();

// fanInFill with variance 1 / fan_in and LayerScale in [0.3, 0.9], as core's formula weights: fanInFill as it is
// grows the hybrids' activations beyond float16 (@mobilenet/tools' float16-check.test.ts).
const base = fanInFill(3);
const conditioned: ParamFiller = (req) => {
  const v = base(req)!;
  if (req.kind === 'layer-scale') return v.map((g) => 0.3 + 0.6 * (g - 0.5));
  return req.kind === 'conv' || req.kind === 'linear' ? v.map((w) => w * Math.SQRT1_2) : v;
};

const sqnr = (ref: ArrayLike<number>, cand: ArrayLike<number>) => {
  let s = 0;
  let n = 0;
  for (let i = 0; i < ref.length; i++) (s += ref[i]! ** 2), (n += (ref[i]! - cand[i]!) ** 2);
  return 10 * Math.log10(s / n);
};

describe.skipIf(skip !== null)(`v4 hybrid fp16 on WebGPU ${skip ? `(skipped: ${skip})` : ''}`, () => {
  it.each(['v4-hybrid-medium', 'v4-hybrid-large'] as const)(
    '%s at 64x64: runs on WebGPU or falls back visibly; finite logits close to float32',
    { timeout: 300_000 },
    async (arch) => {
      const m = buildModel({ arch, resolution: 64, weights: conditioned });
      const x = new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i * 0.37) * 2);
      const gpu = await createSession(toOnnx(toFloat16(m.graph)), { backend: 'webgpu', fallback: true });
      const cpu = await createSession(m);
      if (gpu.backend !== 'webgpu') {
        console.log(`${arch} fp16 on WebGPU fell back to ${gpu.backend}: ${gpu.fallbackReason}`);
        expect(gpu.fallbackReason).toMatch(/requires f16 but the device does not support it/);
      }
      const [a, b] = [await gpu.logits(x, 1), await cpu.logits(x, 1)];
      await Promise.all([gpu.release(), cpu.release()]);
      expect(a.every(Number.isFinite)).toBe(true);
      const db = sqnr(b, a);
      console.log(
        `${arch} fp16 on ${gpu.backend}: SQNR ${db.toFixed(1)} dB, max |logit| ${Math.max(...b.map(Math.abs)).toFixed(2)}`,
      );
      expect(db).toBeGreaterThan(40);
    },
  );
});
