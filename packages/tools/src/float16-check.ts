import './ort-env.js';
import {
  type Float16Hazard,
  type Float16Options,
  type Graph,
  MobileNetError,
  type Preprocessing,
  float16Hazards,
  observeActivations,
  toOnnx,
} from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { preprocessingOf } from '@mobilenet/runtime-node';
import { eachOutput } from './run-each.js';

/**
 * Probe inputs for a model, preprocessed as its metadata says: seeded noise pixels and a smooth pattern, in [0, 1]
 * before normalisation, so their values span what a photograph's can. Not photographs: a check on them catches a
 * model that float16 cannot hold on any input, not one that overflows only on rare images.
 */
export function probeInputs(pre: Preprocessing): Float32Array[] {
  const n = pre.size * pre.size;
  let seed = 0x9e3779b9;
  const noise = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const smooth = (c: number, i: number) =>
    0.5 + 0.5 * Math.sin((i % pre.size) * 0.2 + c) * Math.cos(Math.floor(i / pre.size) * 0.15 - c);
  const pictures: ((c: number, i: number) => number)[] = [noise, smooth];
  return pictures.map((pixel) => {
    const out = new Float32Array(3 * n);
    for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[c * n + i] = (pixel(c, i) - pre.mean[c]!) / pre.std[c]!;
    return out;
  });
}

export interface Float16Check {
  /** What float16 cannot hold, from the float32 model's activations on the probes (core's `float16Hazards`). */
  readonly hazards: Float16Hazard[];
  /** The float16 model's outputs that were not finite on the probes (onnxruntime-node CPU). */
  readonly nonFiniteOutputs: string[];
  /** SQNR of the float16 model's outputs against float32's on the probes (onnxruntime-node CPU), in dB. */
  readonly sqnrDb: number;
  readonly probes: number;
}

/**
 * Checks a float16 conversion before it is shipped: runs the float32 model on probe inputs with every activation
 * observed, asks core which float16-computed tensors would overflow or vanish, and runs the float16 model to see
 * that its outputs are finite and follow float32's. onnxruntime's CPU provider computes some float16 ops in float32,
 * so for overflow the float32 magnitudes, not the CPU run, are the verdict for GPUs.
 */
export interface Float16CheckOptions extends Float16Options {
  /** Preprocessed images ([3, size, size] each) run as probes beside the two synthetic ones: real photographs reach
   * values that synthetic inputs may not. */
  readonly images?: readonly Float32Array[];
}

export async function checkFloat16(
  float: Graph,
  half: Graph,
  options: Float16CheckOptions = {},
): Promise<Float16Check> {
  const { images = [], ...hazardOptions } = options;
  const pre = preprocessingOf(float.metadata, float.name, 'float16-check');
  const wrong = images.findIndex((t) => t.length !== 3 * pre.size * pre.size);
  if (wrong >= 0)
    throw new MobileNetError(
      'float16-check',
      `images[${wrong}]`,
      `a preprocessed image of 3 x ${pre.size} x ${pre.size} = ${3 * pre.size * pre.size} values`,
      `${images[wrong]!.length} values`,
    );
  const probes = [...probeInputs(pre), ...images];
  const input = float.inputs[0]!.name;
  const feeds = probes.map((d) => ({ [input]: new ort.Tensor('float32', d, [1, 3, pre.size, pre.size]) }));
  const outputs = new Set(float.outputs.map((o) => o.name));
  const maxAbs = new Map<string, number>();
  const ref = new Map<string, Float32Array>(); // `${probe}/${output}` -> float32 values
  await eachOutput(toOnnx(observeActivations(float).graph, { batch: 1 }), feeds, (k, name, data) => {
    let m = maxAbs.get(name) ?? 0;
    for (const v of data) m = Number.isFinite(v) ? Math.max(m, Math.abs(v)) : Infinity;
    maxAbs.set(name, m);
    if (outputs.has(name)) ref.set(`${k}/${name}`, data.slice());
  });
  const nonFinite = new Set<string>();
  let [signal, noise] = [0, 0];
  await eachOutput(toOnnx(half, { batch: 1 }), feeds, (k, name, data) => {
    if (!data.every(Number.isFinite)) nonFinite.add(name);
    const r = ref.get(`${k}/${name}`);
    if (r) for (const [i, v] of data.entries()) (signal += r[i]! ** 2), (noise += (v - r[i]!) ** 2);
  });
  return {
    hazards: float16Hazards(float, maxAbs, hazardOptions),
    nonFiniteOutputs: [...nonFinite],
    sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
    probes: probes.length,
  };
}
