// WebGPU through onnxruntime-node's Dawn provider. Without a GPU it runs on SwiftShader (Vulkan on the CPU), whose
// ICD comes with Debian's chromium package; .ci/run installs it. Slow (seconds per model), so small resolutions.
import { GraphBuilder, archsWithConvention, buildModel, fanInFill, toOnnx } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { maxAbs, maxAbsDiff, skipUnless } from '@mobilenet/test-support';
import { useSwiftShader } from '@mobilenet/test-support/swiftshader';
import { availableBackends, createSession } from './index.js';
import { ortOptions } from './backends.js';

// Without a GPU, SwiftShader is the Vulkan driver (set before Dawn first starts: it reads this once per process).
useSwiftShader(); // before the probe below: it decides whether WebGPU starts
// Gated on an adapter actually starting, not on files being there (a missing libvulkan1 fails only here).
const webgpu = (await availableBackends()).find((b) => b.backend === 'webgpu')!;
const skip = skipUnless('WebGPU on onnxruntime-node (SwiftShader in CI)', webgpu.available ? null : webgpu.reason!);

describe.skipIf(skip !== null)(`WebGPU (onnxruntime-node, Dawn) ${skip ? `(skipped: ${skip})` : ''}`, () => {
  for (const arch of archsWithConvention('torchvision')) {
    it(`${arch} at 64x64: logits equal CPU's`, async () => {
      const m = buildModel({ arch, resolution: 64, weights: fanInFill(3), convention: 'torchvision' });
      const x = new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i * 0.37) * 2);
      const gpu = await createSession(m, { backend: 'webgpu' });
      const cpu = await createSession(m);
      expect(gpu.backend).toBe('webgpu');
      const [a, b] = [await gpu.logits(x, 1), await cpu.logits(x, 1)];
      // float32 on another device sums in another order: agree to 1e-3 of the logits' scale.
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-3 * Math.max(1, maxAbs(b)));
      await Promise.all([gpu.release(), cpu.release()]);
    });
  }

  // onnxruntime 1.30's WebGPU provider fuses Conv -> Clip(0, 6) -> HardSwish into one Conv with activation
  // HardSwish and drops the Clip, at optimisation 'extended' and 'all'. Our runtime uses 'basic' on WebGPU.
  // When this test fails because 'all' became correct, a newer onnxruntime fixed the bug: drop the workaround.
  it('pins the Conv -> Clip -> HardSwish fusion bug: wrong at "all", right at "basic" (our default)', async () => {
    const b = new GraphBuilder('fusion-bug', { init: fanInFill(5) });
    b.output(
      b.hardSwish(b.relu6(b.conv(b.input('input', [1, 3, 16, 16]), 'conv', { out: 8, kernel: 3 }), 'clip'), 'y'),
    );
    const bytes = toOnnx(b.build());
    const x = new ort.Tensor(
      'float32',
      new Float32Array(3 * 16 * 16).map((_, i) => Math.sin(i * 0.7) * 4),
      [1, 3, 16, 16],
    );
    const run = async (ep: string, level: 'basic' | 'all') => {
      const s = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: level });
      const y = (await s.run({ input: x })).y!.data as Float32Array;
      await s.release();
      return y;
    };
    const cpu = await run('cpu', 'all');
    expect(maxAbsDiff(await run('webgpu', 'all'), cpu)).toBeGreaterThan(0.5);
    expect(maxAbsDiff(await run('webgpu', 'basic'), cpu)).toBeLessThan(1e-4);
    // What our sessions ask onnxruntime for: 'basic' on WebGPU unless the caller says otherwise.
    expect(ortOptions('webgpu', {}).graphOptimizationLevel).toBe('basic');
    expect(ortOptions('cpu', {}).graphOptimizationLevel).toBe('all');
  });
});
