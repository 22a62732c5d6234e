// MobileNetV4 on WebGPU through onnxruntime-node's Dawn provider, against CPU. Without a GPU Dawn runs on
// SwiftShader (Vulkan on the CPU; its ICD comes with Debian's chromium package, the loader with libvulkan1; .ci/run
// installs both), which is slow: 64x64 inputs. The attention (MatMul, Softmax, Reshape, Transpose) and GELU are
// what v1-v3 did not exercise on this provider.
import { type ModelOptions, buildModel, fanInFill } from '@mobilenet/core';
import { useSwiftShader } from '@mobilenet/test-support/swiftshader';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

const skip = useSwiftShader();

/** max |a - b| / max |b|. */
const rel = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0) / b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

// SwiftShader compiles a pipeline per distinct op and shape: 15-50 s per model here, up to 350 s when the 2 cores
// were shared with other jobs (160 s for these four), so one
// model per kind of block, not all five. Conv-S has every UIB instance (ExtraDW, IB, ConvNext-like, FFN) and FusedIB;
// Hybrid-M adds Mobile MQA (MatMul, Softmax, Reshape, Transpose); Hybrid-L adds GELU (Erf at opset 17), and in
// TF's convention the tanh GELU and asymmetric 'SAME' pads, also on the K/V downsampling. Conv-M and Conv-L (same
// blocks as Conv-S, more of them) agreed to 2.0e-6 and 1.4e-6 when run once by hand.
const CASES: readonly ModelOptions[] = [
  { arch: 'v4-conv-small' },
  { arch: 'v4-hybrid-medium' },
  { arch: 'v4-hybrid-large' },
  { arch: 'v4-hybrid-large', convention: 'reference' },
];

describe.skipIf(skip !== null)(
  `MobileNetV4 on WebGPU (onnxruntime-node, Dawn) ${skip ? `(skipped: ${skip})` : ''}`,
  () => {
    it.each(CASES)(
      "%j at 64x64: logits equal CPU's (rel < 1e-3)",
      async (o) => {
        const m = buildModel({ ...o, resolution: 64, weights: fanInFill(3) });
        const x = new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i * 0.37) * 2);
        const gpu = await createSession(m, { backend: 'webgpu' });
        const cpu = await createSession(m);
        try {
          expect(gpu.backend).toBe('webgpu');
          const [a, b] = [await gpu.logits(x, 1), await cpu.logits(x, 1)];
          // float32 on another device sums in another order: agree to 1e-3 of the logits' scale.
          const r = rel(a, b);
          console.log(`${JSON.stringify(o)}: WebGPU vs CPU rel ${r.toExponential(2)}`);
          expect(r).toBeLessThan(1e-3);
        } finally {
          await Promise.all([gpu.release(), cpu.release()]);
        }
      },
      600_000,
    );
  },
);
