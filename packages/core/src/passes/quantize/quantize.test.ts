import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../models/build.js';
import { fanInFill } from '../../models/fill.js';
import { fromOnnx } from '../../onnx/read.js';
import { toOnnx } from '../../onnx/write.js';
import { onnxCheck, pythonOnnxMissing } from '../../../test/testing.js';
import { observeActivations } from './observe.js';
import { foldBatchNorm } from '../fold-batch-norm.js';
import { padDepthwiseChannels } from './pad-channels.js';
import { activationParams, quantize } from './qdq.js';
import { convLayout, gemmLayout, quantizeWeight } from './weights.js';
import { CalibrationError, RangeCollector, modelIdentity, readCalibration } from './ranges.js';
import { softmaxOutputParams } from './softmax.js';

const inputs = (n: number, size: number) =>
  Array.from({ length: n }, (_, k) =>
    Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.013 + k) * 1.5),
  );

async function run(
  bytes: Uint8Array,
  x: Float32Array,
  size: number,
  optimized?: string,
): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    ...(optimized && { optimizedModelFilePath: optimized }),
  });
  try {
    return await s.run({ input: new ort.Tensor('float32', x, [1, 3, size, size]) });
  } finally {
    await s.release();
  }
}

const sqnr = (ref: Float32Array, cand: Float32Array) => {
  let s = 0,
    n = 0;
  ref.forEach((r, i) => {
    s += r * r;
    n += (r - cand[i]!) ** 2;
  });
  return 10 * Math.log10(s / n);
};

/** Op types in an ONNX file (onnxruntime's optimized dump), counted from the bytes through our proto reader. */
function opCounts(file: string): Record<string, number> {
  const text = readFileSync(file).toString('latin1');
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/\x22([\x05-\x20])(Q[A-Za-z]+|DequantizeLinear|HardSigmoid|HardSwish|Conv|Mul|Add)/g)) {
    const op = m[2]!.slice(0, m[1]!.charCodeAt(0));
    if (op.length === m[1]!.charCodeAt(0)) counts[op] = (counts[op] ?? 0) + 1;
  }
  return counts;
}

describe('quantization arithmetic', () => {
  it('stores weights as symmetric int8 per output channel, the largest magnitude at +-127', () => {
    const w = Float32Array.of(0.5, -1, 0.25, 0.1875, 0.25, -0.0625);
    const { data, scales } = quantizeWeight(w, convLayout([2, 3]), 'vnni');
    expect(Array.from(scales)).toEqual([Math.fround(1 / 127), Math.fround(0.25 / 127)]);
    expect(Array.from(data)).toEqual([64, -127, 32, 95, 127, -32]);
    // Gemm with transB = 0: channels along axis 1.
    expect(
      Array.from(quantizeWeight(Float32Array.of(1, 0.375, -1, 0.5), gemmLayout([2, 2], false), 'vnni').data),
    ).toEqual([127, 95, -127, 127]);
  });

  it('maps an activation range onto uint8 or int8 with 0 exact', () => {
    expect(activationParams({ min: 0, max: 6 }, 'uint8')).toEqual({ scale: Math.fround(6 / 255), zero: 0 });
    expect(activationParams({ min: 0, max: 6 }, 'int8')).toEqual({ scale: Math.fround(6 / 255), zero: -128 });
    expect(activationParams({ min: -1, max: 3 }, 'uint8').zero).toBe(64);
    expect(activationParams({ min: 1, max: 2 }, 'uint8')).toEqual({ scale: Math.fround(2 / 255), zero: 0 }); // range widened to 0
  });

  it('gives a softmax output a scale 1/k that onnxruntime QLinearSoftmax multiplies by without overflow', () => {
    // The kernel multiplies exp-table entries up to FLT_MAX / (D e^5) by floor(1.0f / scale): k <= 148 D.
    for (const d of [1, 4, 49, 196])
      for (const max of [0.01, 0.29, 1]) {
        const { scale, zero } = softmaxOutputParams({ min: 0.001, max }, d, 'uint8');
        const k = Math.floor(Math.fround(1 / scale));
        expect(k * scale).toBeLessThanOrEqual(1);
        expect(k * scale).toBeGreaterThan(1 - 2 ** -20); // the DequantizeLinear reads what the kernel wrote
        expect(k).toBeLessThanOrEqual(128 * d);
        // The calibrated range fits (up to the scale rounded down to 1/k).
        if (255 / max <= 128 * d) expect(255 * scale).toBeGreaterThanOrEqual(max * (1 - 2 ** -20));
        expect(zero).toBe(0);
      }
    expect(softmaxOutputParams({ min: 0, max: 0.29 }, 4, 'int8').zero).toBe(-128);
  });
});

describe('range collection', () => {
  it('minmax keeps the extremes; percentile ignores a rare outlier', () => {
    const data = Float32Array.from({ length: 100000 }, (_, i) => (i % 1000) / 100); // 0 .. 9.99
    data[5] = 1e4;
    const mm = new RangeCollector('minmax');
    const pc = new RangeCollector('percentile', 99.99);
    for (const c of [mm, pc]) c.add({ t: data }, 1);
    expect(mm.ranges().t).toEqual({ min: 0, max: 1e4 });
    const r = pc.ranges().t!;
    expect(r.min).toBe(0);
    // The histogram's bound doubled up to 16384 (bins 8 wide): the upper percentile lands in the bin of 9.99.
    expect(r.max).toBeGreaterThanOrEqual(9.99);
    expect(r.max).toBeLessThanOrEqual(16);
  });

  it('merges histograms exactly when the range grows batch by batch', () => {
    const once = new RangeCollector('percentile', 99);
    const grown = new RangeCollector('percentile', 99);
    const batches = [0.5, 3, 40].map((k) => Float32Array.from({ length: 5000 }, (_, i) => k * Math.sin(i)));
    for (const b of batches) grown.add({ t: b }, 1);
    once.add({ t: Float32Array.from(batches.flatMap((b) => Array.from(b))) }, 3);
    expect(grown.ranges()).toEqual(once.ranges());
  });

  it('refuses a cache made for another model, naming both', () => {
    const a = buildModel({ arch: 'v3-small', resolution: 32, weights: fanInFill(1) }).graph;
    const b = buildModel({ arch: 'v3-small', resolution: 32, weights: fanInFill(2) }).graph;
    const cache = JSON.stringify(new RangeCollector('minmax').result(modelIdentity(a)));
    expect(readCalibration(cache, a, 'a.json').model).toEqual(modelIdentity(a));
    expect(() => readCalibration(cache, b, 'a.json')).toThrow(CalibrationError);
    expect(() => readCalibration(cache, b, 'a.json')).toThrow(
      `calibration cache 'a.json': expected ranges for model '${b.name}' (digest ${modelIdentity(b).digest}), received ranges made for model '${a.name}' (digest ${modelIdentity(a).digest})`,
    );
  });
});

describe('padDepthwiseChannels', () => {
  it('pads depthwise channels to multiples of 16 with zero channels, leaving the logits as they were', async () => {
    // v3-small: depthwise convs of 72, 88, 96, 240, 120, 144, 288, 576 channels, with squeeze-excite and h-swish.
    const float = foldBatchNorm(buildModel({ arch: 'v3-small', resolution: 64, weights: fanInFill(4) }).graph);
    const padded = padDepthwiseChannels(float, 16);
    const depthwise = (g: typeof float) =>
      g.nodes
        .filter((n) => n.op === 'Conv' && Number(n.attrs.group?.value ?? 1) > 1)
        .map((n) => Number(n.attrs.group!.value));
    expect(depthwise(float).some((c) => c % 16 !== 0)).toBe(true);
    expect(depthwise(padded).every((c) => c % 16 === 0)).toBe(true);
    expect(
      depthwise(padded)
        .map((c, i) => c - depthwise(float)[i]!)
        .every((d) => d >= 0 && d < 16),
    ).toBe(true);
    const x = inputs(1, 64)[0]!;
    const ref = (await run(toOnnx(float), x, 64)).logits!.data as Float32Array;
    const out = (await run(toOnnx(padded), x, 64)).logits!.data as Float32Array;
    // Equal up to float summation order (the padded convs take other kernel paths): 80 dB and more.
    expect(sqnr(ref, out)).toBeGreaterThan(80);
  });
});

describe.each(['v2', 'v3-small'] as const)('%s quantized to QDQ', (arch) => {
  const size = 64;
  const float = buildModel({ arch, resolution: size, convention: 'torchvision', weights: fanInFill(3) }).graph;

  async function calibrated() {
    const { graph, tensors } = observeActivations(float);
    const collector = new RangeCollector('minmax');
    for (const x of inputs(4, size)) {
      const out = await run(toOnnx(graph), x, size);
      collector.add(Object.fromEntries(tensors.map((t) => [t, t === 'input' ? x : (out[t]!.data as Float32Array)])), 1);
    }
    return collector.result(modelIdentity(float));
  }

  it('runs in onnxruntime fused into QLinear ops, close to float, and round-trips through the reader', {
    timeout: 120_000,
  }, async () => {
    // Everything quantized, the stem too (by default it stays float: docs/precision.md), to count the fused ops.
    const q = quantize(float, await calibrated(), { keepFloat: { stem: false } });
    const bytes = toOnnx(q);
    const file = join(tmpdir(), `quantize-test-${arch}-${process.pid}.onnx`);
    try {
      const x = inputs(1, size)[0]!;
      const out = await run(bytes, x, size, file);
      const ref = (await run(toOnnx(float), x, size)).logits!.data as Float32Array;
      expect(sqnr(ref, out.logits!.data as Float32Array)).toBeGreaterThan(10); // random weights: a loose floor, real figures in docs/precision.md
      const ops = opCounts(file);
      const convs = float.nodes.filter((n) => n.op === 'Conv').length;
      expect(ops.QLinearConv).toBe(convs);
      expect(ops.QGemm).toBe(float.nodes.filter((n) => n.op === 'Gemm').length);
      // HardSwish and HardSigmoid run as QLinearAdd/QLinearMul: none is left in float.
      expect(ops.HardSigmoid ?? 0).toBe(0);
      expect(ops.HardSwish ?? 0).toBe(0);
      expect(ops.Conv ?? 0).toBe(0);
      // One QLinearAdd per residual Add and per h-swish gate; squeeze-excite's h-sigmoid shift sits in its conv's bias.
      const count = (op: string) => float.nodes.filter((n) => n.op === op).length;
      expect(ops.QLinearAdd ?? 0).toBe(count('Add') + count('HardSwish'));
      expect(ops.QLinearMul ?? 0).toBe(count('Mul') + count('HardSwish'));
      expect(Buffer.compare(Buffer.from(bytes), Buffer.from(toOnnx(fromOnnx(bytes).graph)))).toBe(0);
      expect(bytes.length / toOnnx(float).length).toBeLessThan(0.3);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it.skipIf(pythonOnnxMissing())('passes onnx.checker', { timeout: 120_000 }, async () => {
    const [r] = onnxCheck({ [arch]: toOnnx(quantize(float, await calibrated())) });
    expect(r!.error ?? 'ok').toBe('ok');
  });

  it('leaves the stem and the first block in float by default, up to the first expansion conv', {
    timeout: 60_000,
  }, async () => {
    const q = quantize(float, await calibrated());
    const dequantized = new Set(q.nodes.filter((n) => n.op === 'DequantizeLinear').map((n) => n.outputs[0]));
    const convs = q.nodes.filter((n) => n.op === 'Conv');
    const firstInt8 = convs.findIndex((n) => dequantized.has(n.inputs[1]));
    expect(convs[0]!.inputs[0]).toBe('input');
    expect(firstInt8).toBeGreaterThanOrEqual(2); // the stem conv and the depthwise conv after it, at least
    const w = q.initializers.find((i) => i.name === `${convs[firstInt8]!.inputs[1]}.q`)!;
    expect(w.dims[0]).toBeGreaterThan(w.dims[1]!); // the expansion: more output channels than input
    expect(convs.slice(firstInt8).every((n) => dequantized.has(n.inputs[1]))).toBe(true);
    // Float convs read no DequantizeLinear (onnxruntime would quantize a float Conv between a DQ and a Q itself).
    expect(convs.slice(0, firstInt8).some((n) => dequantized.has(n.inputs[0]))).toBe(false);
    const file = join(tmpdir(), `quantize-test-stem-${arch}-${process.pid}.onnx`);
    try {
      await run(toOnnx(q), inputs(1, size)[0]!, size, file);
      expect(opCounts(file).QLinearConv).toBe(convs.length - firstInt8);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('says which tensor has no range', () => {
    const empty = new RangeCollector('minmax').result(modelIdentity(float));
    expect(() => quantize(float, empty)).toThrow(
      /tensor '\S+': expected a calibrated range for every quantized activation/,
    );
  });
});
