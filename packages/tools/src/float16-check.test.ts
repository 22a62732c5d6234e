import { type ParamFiller, buildModel, fanInFill, toFloat16 } from '@mobilenet/core';
import { describe, expect, it } from 'vitest';
import { checkFloat16, probeInputs } from './float16-check.js';

describe('checkFloat16 (what float16 cannot hold, on probe inputs)', () => {
  // fanInFill as it was until issue #15, LayerScale gammas in [0.5, 1.5]: the model whose float16 logits were NaN.
  const gammasNearOne: ParamFiller = (p) =>
    p.kind === 'layer-scale'
      ? Float32Array.from({ length: p.dims[0]! }, (_, i) => 0.5 + ((i * 0.618) % 1))
      : fanInFill(5)(p);
  // The silent NaN of issue #15: LayerScale gammas near 1 grow the hybrids' residual stream block after
  // block; the attention logits Q K^T / sqrt(d) pass 65504 first (measured 2.2e5 at blocks.2.4, then up to 7.8e17), and
  // float32 activations reach 1e10 in the head. float16 cannot hold that model whichever ops stay float32.
  it('v4-hybrid-medium with LayerScale gammas near 1: the first overflow is an attention MatMul; the float16 logits are NaN', {
    timeout: 120_000,
  }, async () => {
    const float = buildModel({ arch: 'v4-hybrid-medium', resolution: 64, weights: gammasNearOne }).graph;
    const check = await checkFloat16(float, toFloat16(float));
    const first = check.hazards[0]!;
    console.log(
      `${check.hazards.length} hazards; first ${first.kind} at ${first.node} (${first.op}) ${first.maxAbs.toExponential(2)}`,
    );
    expect([first.kind, first.op]).toEqual(['overflow', 'MatMul']);
    expect(first.node).toMatch(/^blocks\.2\.\d+\.attn\.qk$/);
    expect(first.maxAbs).toBeGreaterThan(65504);
    expect(check.nonFiniteOutputs).toEqual(['logits']);
    expect(check.sqnrDb).toBeNaN();
  });

  it('v4-conv-small seeded: nothing to report', { timeout: 120_000 }, async () => {
    const float = buildModel({ arch: 'v4-conv-small', resolution: 64 }).graph;
    const check = await checkFloat16(float, toFloat16(float));
    expect([check.hazards, check.nonFiniteOutputs, check.probes]).toEqual([[], [], 2]);
    expect(check.sqnrDb).toBeGreaterThan(40);
  });

  it('images join the probes; one of the wrong size is refused by its index', { timeout: 120_000 }, async () => {
    const float = buildModel({ arch: 'v4-conv-small', resolution: 32, width: 0.5 }).graph;
    const image = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.3) * 2);
    const check = await checkFloat16(float, toFloat16(float), { images: [image, image] });
    expect([check.probes, check.hazards, check.nonFiniteOutputs]).toEqual([4, [], []]);
    await expect(checkFloat16(float, toFloat16(float), { images: [image, image.subarray(1)] })).rejects.toThrow(
      'images[1]: expected a preprocessed image of 3 x 32 x 32 = 3072 values, received 3071 values',
    );
  });

  it('probe inputs are deterministic and span the normalised range of [0, 1] pixels', () => {
    const pre = JSON.parse(
      buildModel({ arch: 'v2', resolution: 32, convention: 'torchvision', weights: null }).graph.metadata[
        'mobilenet.preprocessing'
      ]!,
    );
    expect(pre.std).toEqual([0.229, 0.224, 0.225]);
    const [a, b] = [probeInputs(pre), probeInputs(pre)];
    expect(a).toEqual(b);
    const n = 32 * 32;
    for (const p of a)
      for (let c = 0; c < 3; c++) {
        const ch = p.subarray(c * n, (c + 1) * n);
        const [lo, hi] = [-pre.mean[c] / pre.std[c], (1 - pre.mean[c]) / pre.std[c]];
        expect(Math.min(...ch)).toBeGreaterThanOrEqual(lo - 1e-5);
        expect(Math.max(...ch)).toBeLessThanOrEqual(hi + 1e-5);
        expect(Math.max(...ch) - Math.min(...ch)).toBeGreaterThan(0.9 * (hi - lo));
      }
  });
});
