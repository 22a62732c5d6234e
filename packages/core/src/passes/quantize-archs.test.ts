// Every registered architecture through quantize (the defaults) on onnxruntime-node CPU, against its own float32
// model with the same weights: calibrated on a few deterministic inputs, checked by onnx.checker, fused by
// onnxruntime into its int8 kernels, and within an SQNR floor on held-out inputs (docs/precision.md, INT8), both on
// this CPU's kernels and under the emulated arithmetic of AVX2 without VNNI (int16 pair saturation), so that a VNNI
// machine catches what only an AVX2 machine would show.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../ir/graph.js';
import { buildModel } from '../models/build.js';
import { ARCHS, type Arch } from '../models/builtin.js';
import { toOnnx } from '../onnx/write.js';
import { onnxCheck, pythonOnnxMissing } from '../../test/testing.js';
import { formulaFill, formulaInput, formulaUniform } from '../../test/testing-formula.js';
import { emulateAvx2U8S8 } from './quantize/emulate-u8s8.js';
import { cpuFlags, int8Kernels } from './quantize/kernels.js';
import { observeActivations } from './quantize/observe.js';
import { type QuantizeOptions, quantize } from './quantize/qdq.js';
import { RangeCollector, modelIdentity } from './quantize/ranges.js';

const RES = 64;
const SIZE = 3 * RES * RES;
// Two kinds of input, neither a photograph (none can be downloaded here): per-pixel noise in [-2, 2) and smooth
// waves of amplitude 1.5. Calibration and evaluation never share one.
const noise = (k: number) => formulaUniform(`image${k}`, SIZE, -2, 2);
const waves = (k: number) => Float32Array.from({ length: SIZE }, (_, i) => 1.5 * Math.sin(i * (0.01 + 0.003 * k) + k));
const CALIBRATION = [0, 1, 2, 3].flatMap((k) => [noise(k), waves(k)]);
const EVALUATION = [formulaInput([1, 3, RES, RES]), waves(7), noise(9)];

/** Float outputs of a graph for each input (all of them: the observed graph's activations too). */
async function outputs(
  graph: Graph,
  xs: readonly Float32Array[],
  optimized?: string,
  level: 'all' | 'disabled' = 'all',
): Promise<Record<string, Float32Array>[]> {
  const s = await ort.InferenceSession.create(toOnnx(graph), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    graphOptimizationLevel: level,
    ...(optimized && { optimizedModelFilePath: optimized }),
  });
  try {
    const out: Record<string, Float32Array>[] = [];
    for (const x of xs) {
      const r = await s.run({ input: new ort.Tensor('float32', x, [1, 3, RES, RES]) });
      out.push(Object.fromEntries(Object.entries(r).map(([k, t]) => [k, t.data as Float32Array])));
    }
    return out;
  } finally {
    await s.release();
  }
}

/** Ranges as `mobilenet export --precision int8` collects them (percentile 99.99), over CALIBRATION. */
async function calibrate(float: Graph) {
  const observed = observeActivations(float);
  const collector = new RangeCollector('percentile', 99.99);
  const runs = await outputs(observed.graph, CALIBRATION);
  for (const [k, out] of runs.entries()) collector.add({ ...out, input: CALIBRATION[k]! }, 1);
  return collector.result(modelIdentity(float));
}

function sqnr(ref: readonly Float32Array[], got: readonly Float32Array[]): number {
  let signal = 0;
  let noise = 0;
  for (const [k, g] of got.entries())
    for (const [i, v] of g.entries()) {
      signal += ref[k]![i]! ** 2;
      noise += (v - ref[k]![i]!) ** 2;
    }
  return 10 * Math.log10(signal / noise);
}

/** Op types in an ONNX file (onnxruntime's optimized dump): NodeProto's op_type (field 4) read from the bytes. */
function opCounts(file: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of readFileSync(file)
    .toString('latin1')
    .matchAll(/\x22([\x03-\x20])([A-Z][A-Za-z]+)/g)) {
    const op = m[2]!.slice(0, m[1]!.charCodeAt(0));
    if (op.length === m[1]!.charCodeAt(0)) counts[op] = (counts[op] ?? 0) + 1;
  }
  return counts;
}

/** Conv nodes of a quantized graph whose weight is read through a DequantizeLinear (int8), and the others. */
function convs(q: Graph): { int8: number; float: number } {
  const dequantized = new Set(q.nodes.filter((n) => n.op === 'DequantizeLinear').map((n) => n.outputs[0]));
  const all = q.nodes.filter((n) => n.op === 'Conv');
  const int8 = all.filter((n) => dequantized.has(n.inputs[1])).length;
  return { int8, float: all.length - int8 };
}

// SQNR of the logits over EVALUATION as measured here, less about 3 dB, so that a loss of a few dB fails.
const FLOOR: Record<Arch, number> = {
  v1: 37,
  v2: 30,
  'v3-large': 35,
  'v3-small': 36,
  'v4-conv-small': 30,
  'v4-conv-medium': 26,
  'v4-conv-large': 25,
  'v4-hybrid-medium': 27,
  'v4-hybrid-large': 27,
};
// Every registered architecture at width 1, and the reduced widths timm publishes for v4 (fixtures/timm-v4).
const CASES: [Arch, number, number][] = [
  ...ARCHS.map((a): [Arch, number, number] => [a, 1, FLOOR[a]]),
  ['v4-conv-small', 0.5, 30],
  ['v4-hybrid-medium', 0.75, 29],
  ['v4-hybrid-large', 0.75, 27],
];
const onnxMissing = pythonOnnxMissing();
const kernels = int8Kernels(cpuFlags(readCpuinfo()), process.arch);

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/** The logits' SQNR of `q` against `float` over EVALUATION, with q's int8 layers computed as AVX2 computes them. */
async function emulatedSqnr(float: Graph, q: Graph): Promise<number> {
  const [ref, got] = [
    await outputs(float, EVALUATION),
    await outputs(emulateAvx2U8S8(q), EVALUATION, undefined, 'disabled'),
  ];
  return sqnr(
    ref.map((o) => o.logits!),
    got.map((o) => o.logits!),
  );
}

/**
 * Quantizes, runs and checks one architecture; returns the logits' SQNR against float32 on this CPU's kernels and
 * under the emulated AVX2 arithmetic.
 */
async function quantizeAndCompare(
  arch: Arch,
  width: number,
  options: QuantizeOptions,
): Promise<{ real: number; avx2: number }> {
  const float = buildModel({ arch, width, resolution: RES, weights: formulaFill }).graph;
  const q = quantize(float, await calibrate(float), options);
  const int8Attention = options.keepFloat?.attention === false;
  const file = join(tmpdir(), `quantize-archs-${arch}-${width}-${process.pid}.onnx`);
  let db: number;
  let emulated = 0;
  try {
    const [ref, got] = [await outputs(float, EVALUATION), await outputs(q, EVALUATION, file)];
    db = sqnr(
      ref.map((o) => o.logits!),
      got.map((o) => o.logits!),
    );
    const avx2 = await emulatedSqnr(float, q);
    const target = options.target ?? 'portable';
    console.log(
      `${arch} x${width} int8 ${target}${int8Attention ? ', attention int8' : ''} ${RES}px: SQNR ${db.toFixed(2)} dB on this CPU (${kernels.path}), ${avx2.toFixed(2)} dB emulated AVX2`,
    );
    emulated = avx2;
    // onnxruntime runs every int8 conv and Gemm as a QLinear kernel: none fell back to float.
    const ops = opCounts(file);
    const c = convs(q);
    const count = (op: string) => float.nodes.filter((n) => n.op === op).length;
    expect(ops.QLinearConv ?? 0).toBe(c.int8);
    expect(ops.Conv ?? 0).toBe(c.float);
    expect(ops.QGemm ?? 0).toBe(count('Gemm'));
    // Attention float by default; with keepFloat.attention false, its products and softmax are int8 kernels.
    expect(ops.QLinearMatMul ?? 0).toBe(int8Attention ? count('MatMul') : 0);
    expect(ops.QLinearSoftmax ?? 0).toBe(int8Attention ? count('Softmax') : 0);
  } finally {
    rmSync(file, { force: true });
  }
  if (!onnxMissing) expect(onnxCheck({ [arch]: toOnnx(q) })[0]!.error ?? 'ok').toBe('ok');
  return { real: db, avx2: emulated };
}

describe('quantize on every registered architecture (formula weights, 64 px, onnxruntime-node CPU)', () => {
  it.each(CASES)(
    `%s x%s: int8 kernels fused, SQNR >= %s dB against float32 on held-out inputs on this CPU (${kernels.path}) and emulated AVX2${onnxMissing ? '' : ', onnx.checker'}`,
    { timeout: 300_000 },
    async (arch, width, floor) => {
      const { real, avx2 } = await quantizeAndCompare(arch, width, {});
      expect(real).toBeGreaterThanOrEqual(floor);
      expect(avx2).toBeGreaterThanOrEqual(floor);
    },
  );

  // The arithmetic this suite guards against: plain max/127 weights ('vnni') saturate AVX2's int16 pair sums.
  // Under the emulation they fall below the floor on every CPU; on an AVX2 CPU the real kernels agree with it.
  const SATURATING: [Arch, number][] = [
    ['v2', 30],
    ['v3-large', 35],
    ['v4-conv-medium', 26],
  ];
  it.each(SATURATING)(
    `%s with 'vnni' weights: emulated AVX2 below the %s dB floor${kernels.saturates ? ', and this AVX2 CPU within 1 dB of the emulation' : ''}`,
    { timeout: 300_000 },
    async (arch, floor) => {
      const { real, avx2 } = await quantizeAndCompare(arch, 1, { target: 'vnni' });
      expect(avx2).toBeLessThan(floor - 3);
      if (kernels.saturates) expect(Math.abs(real - avx2)).toBeLessThan(1);
      else expect(real).toBeGreaterThanOrEqual(floor);
    },
  );

  // onnxruntime's QLinearSoftmax overflowed with calibrated output scales (all outputs 0, 3 dB): softmax.ts.
  const INT8_ATTENTION = CASES.filter(
    ([a, w]) => (a === 'v4-hybrid-medium' && w === 1) || (a === 'v4-hybrid-large' && w < 1),
  );
  it.each(INT8_ATTENTION)(
    `%s x%s with attention in int8 (QLinearMatMul, QLinearSoftmax): SQNR >= %s dB`,
    { timeout: 300_000 },
    async (arch, width, floor) => {
      const { real, avx2 } = await quantizeAndCompare(arch, width, { keepFloat: { attention: false } });
      expect(real).toBeGreaterThanOrEqual(floor);
      expect(avx2).toBeGreaterThanOrEqual(floor);
    },
  );
});
