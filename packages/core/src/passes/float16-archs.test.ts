// Every registered architecture through toFloat16 on onnxruntime-node CPU, against its own float32 model with the
// same weights: finite logits and at least 40 dB SQNR (the goal of issue #15).
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../models/build.js';
import { ARCHS, type Arch } from '../models/builtin.js';
import { toOnnx } from '../onnx/write.js';
import { onnxCheck, pythonOnnxMissing } from '../../test/testing.js';
import { formulaFill, formulaInput } from '../../test/testing-formula.js';
import { toFloat16 } from './float16.js';

const RES = 64;
const inputs = [
  formulaInput([1, 3, RES, RES]),
  Float32Array.from({ length: 3 * RES * RES }, (_, i) => Math.sin(i * 0.01)),
  Float32Array.from({ length: 3 * RES * RES }, (_, i) => 1.5 * Math.cos(i * 0.037)),
];

async function logits(bytes: Uint8Array): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const out: Float32Array[] = [];
    for (const data of inputs)
      out.push(
        (await s.run({ input: new ort.Tensor('float32', data, [1, 3, RES, RES]) })).logits!.data as Float32Array,
      );
    return out;
  } finally {
    await s.release();
  }
}

// Every registered architecture at width 1, and the reduced widths timm publishes for v4 (fixtures/timm-v4).
const CASES: [Arch, number][] = [
  ...ARCHS.map((a): [Arch, number] => [a, 1]),
  ['v4-conv-small', 0.5],
  ['v4-hybrid-medium', 0.75],
  ['v4-hybrid-large', 0.75],
];
const onnxMissing = pythonOnnxMissing();

describe('toFloat16 on every registered architecture (formula weights, 64 px, onnxruntime-node CPU)', () => {
  it.each(CASES)(
    `%s x%s: finite logits, >= 40 dB SQNR against float32, half the file${onnxMissing ? '' : ', onnx.checker'}`,
    { timeout: 180_000 },
    async (arch, width) => {
      const float = buildModel({ arch, width, resolution: RES, weights: formulaFill }).graph;
      const [fb, hb] = [toOnnx(float), toOnnx(toFloat16(float))];
      const [ref, got] = [await logits(fb), await logits(hb)];
      let signal = 0;
      let noise = 0;
      for (const [k, g] of got.entries())
        for (const [i, v] of g.entries()) {
          expect(Number.isFinite(v), `${arch} input ${k} logit ${i}`).toBe(true);
          signal += ref[k]![i]! ** 2;
          noise += (v - ref[k]![i]!) ** 2;
        }
      const sqnr = 10 * Math.log10(signal / noise);
      const size = hb.length / fb.length;
      console.log(`${arch} x${width} fp16 ${RES}px: SQNR ${sqnr.toFixed(1)} dB, size ${(100 * size).toFixed(1)}%`);
      expect(sqnr).toBeGreaterThanOrEqual(40);
      expect(size).toBeLessThan(0.51);
      if (!onnxMissing) expect(onnxCheck({ [arch]: hb })[0]!.error ?? 'ok').toBe('ok');
    },
  );
});
