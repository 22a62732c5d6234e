import {
  type Graph,
  RangeCollector,
  buildModel,
  fanInFill,
  modelIdentity,
  observeActivations,
  quantize,
  toOnnx,
} from '@mobilenet/core';
import { createSession, int8KernelsHere } from '@mobilenet/runtime-node';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { checkInt8, worstLayer } from './int8-check.js';

const RES = 64;
const inputs = (n: number, seed: number) =>
  Array.from({ length: n }, (_, k) =>
    Float32Array.from({ length: 3 * RES * RES }, (_, i) => 1.5 * Math.sin(i * (0.011 + 0.002 * k) + seed + k)),
  );

async function ranges(float: Graph, xs: Float32Array[]) {
  const observed = observeActivations(float);
  const s = await ort.InferenceSession.create(toOnnx(observed.graph, { batch: 1 }));
  const c = new RangeCollector('percentile', 99.99);
  for (const x of xs) {
    const out = await s.run({ input: new ort.Tensor('float32', x, [1, 3, RES, RES]) });
    c.add({ ...Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array])), input: x }, 1);
  }
  await s.release();
  return c.result(modelIdentity(float));
}

describe('checkInt8: int8 against float32 on this CPU and under emulated AVX2 arithmetic', () => {
  const float = buildModel({ arch: 'v2', resolution: RES, weights: fanInFill(3) }).graph;
  const kernels = int8KernelsHere();

  it(`portable weights: the same on both, every int8 layer measured (this CPU: ${kernels.path})`, {
    timeout: 120_000,
  }, async () => {
    const q = quantize(float, await ranges(float, inputs(6, 0)));
    const check = await checkInt8(float, q, inputs(4, 9));
    console.log(
      `portable: cpu ${check.cpu.sqnrDb.toFixed(2)} dB, avx2 ${check.avx2.sqnrDb.toFixed(2)} dB, worst ${worstLayer(check)?.node}`,
    );
    expect(check.inputs).toBe(4);
    // Seeded weights: the error grows layer by layer (38.8 dB after the first int8 conv, 8.3 before the classifier).
    // Every node whose output is quantized: the 50 int8 convs and Gemm (not the stem and the first block, which stay
    // float) and the float conv that writes the first quantized tensor; the residual Adds too.
    const weighted = check.layers.filter((l) => l.op === 'Conv' || l.op === 'Gemm');
    expect(weighted.length).toBe(51);
    expect(weighted.at(-1)!.node).toBe('classifier.1');
    expect(check.layers.filter((l) => l.op === 'Add').length).toBe(10); // the residual Adds are measured too
    expect(check.layers.every((l) => Number.isFinite(l.sqnrDb) && l.lossDb < 4)).toBe(true);
    expect(Math.abs(check.cpu.sqnrDb - check.avx2.sqnrDb)).toBeLessThan(1);
    expect(worstLayer(check)!.lossDb).toBe(Math.max(...check.layers.map((l) => l.lossDb)));
  });

  it(`'vnni' weights: emulated AVX2 loses dB${kernels.saturates ? ', and this AVX2 CPU with it' : ''}; the worst layer is one that saturates`, {
    timeout: 120_000,
  }, async () => {
    const q = quantize(float, await ranges(float, inputs(6, 0)), { target: 'vnni' });
    const check = await checkInt8(float, q, inputs(4, 9));
    console.log(
      `vnni: cpu ${check.cpu.sqnrDb.toFixed(2)} dB, avx2 ${check.avx2.sqnrDb.toFixed(2)} dB, worst ${worstLayer(check)?.node} ${worstLayer(check)?.lossDb.toFixed(1)} dB`,
    );
    const portable = await checkInt8(float, quantize(float, await ranges(float, inputs(6, 0))), inputs(4, 9));
    expect(check.avx2.sqnrDb).toBeLessThan(portable.avx2.sqnrDb - 2);
    if (kernels.saturates) expect(Math.abs(check.cpu.sqnrDb - check.avx2.sqnrDb)).toBeLessThan(1);
    else expect(check.cpu.sqnrDb).toBeGreaterThan(check.avx2.sqnrDb + 2);
    // The first int8 conv saturates: it loses 17 dB there, where no portable layer loses 4.
    expect(worstLayer(check)!.lossDb).toBeGreaterThan(10);
  });

  it(`a session on a 'vnni' file ${kernels.saturates ? 'warns on this CPU, whose int8 kernels saturate' : 'does not warn on this CPU'}; a portable one never`, {
    timeout: 120_000,
  }, async () => {
    const r = await ranges(float, inputs(6, 0));
    for (const target of ['vnni', 'portable'] as const) {
      const session = await createSession(toOnnx(quantize(float, r, { target })));
      expect(session.info.int8Target).toBe(target);
      const warned = target === 'vnni' && kernels.saturates;
      expect(session.warnings).toEqual(
        warned ? [expect.stringContaining('quantized for VNNI CPUs (--int8-target vnni)')] : [],
      );
      await session.release();
    }
  });
});
