// Test support: weights and inputs defined by a formula, so that a test and a Python script (its twin,
// tools/fixtures/formula_weights.py) make the same values without sharing files. timm's logits for these weights are
// computed once by the Python side and committed as a small fixture; the test regenerates the weights here from
// timm's state_dict keys and shapes (also committed) and needs no timm. Not part of the package.
//
// The formula, per tensor with key K (timm's state_dict name) and shape S, element i in row-major order:
//   seed = FNV-1a 32-bit of K's UTF-8 bytes
//   h    = fmix32((seed + i * 0x9E3779B9) mod 2^32)          (MurmurHash3's finaliser)
//   u    = (h + 0.5) / 2^32                                   in (0, 1)
//   v    = float32(lo + (hi - lo) * u)                        [lo, hi] from the key's role, below
// Every step is integer arithmetic or one correctly rounded double operation, so both languages give the same bits.
import type { ParamFiller, ParamKind } from '../src/ir/params.js';
import type { CheckpointTensor } from '../src/weights/index.js';

/** FNV-1a over the UTF-8 bytes of a string (keys are ASCII). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** n values uniform in [lo, hi), the stream named by `key`. */
export function formulaUniform(key: string, n: number, lo: number, hi: number): Float32Array {
  const seed = fnv1a32(key);
  const out = new Float32Array(n);
  const span = hi - lo;
  for (let i = 0; i < n; i++) {
    const h = fmix32((seed + Math.imul(i, 0x9e3779b9)) >>> 0);
    out[i] = lo + span * ((h + 0.5) / 4294967296);
  }
  return out;
}

/**
 * The value range of a state_dict entry, from its name and shape: fan-in scaled weights (variance 1 / fan_in; with
 * 2 / fan_in the residual stages of Conv-M grow the logits to 1e9, with this they stay between 2 and 2000); BN affine parameters and running statistics and
 * LayerScale gammas are random and positive where they must be, so that a BN or LayerScale mistake shows.
 */
export function formulaRange(key: string, shape: readonly number[]): [number, number] {
  const leaf = key.slice(key.lastIndexOf('.') + 1);
  if (leaf === 'running_mean') return [-0.1, 0.1];
  if (leaf === 'running_var') return [0.5, 1.5];
  // LayerScale (timm applies it on every MNv4 hybrid block, residual or not). Around 1 ([0.5, 1.5]) the residuals
  // grow the last stage to std ~400 and the attention logits to std ~1e5: softmax becomes an argmax and float32
  // itself is 1e-2 off float64 (timm in torch). Near 0.2 the activations vanish and softmax is uniform. [0.3, 0.9]
  // keeps the attention logits' std between 0.1 and 4 and timm's float32 logits within 4e-7 of float64.
  if (leaf === 'gamma') return [0.3, 0.9];
  if (shape.length === 1 && leaf === 'weight') return [0.5, 1.5];
  if (shape.length === 1 && leaf === 'bias') return [-0.2, 0.2];
  if (shape.length >= 2 && leaf === 'weight') {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const a = Math.sqrt(3 / fanIn);
    return [-a, a];
  }
  throw new Error(
    `formula weights: no value range for key '${key}' of shape [${shape.join(', ')}]: expected running_mean, running_var, gamma, weight or a 1-D bias`,
  );
}

export function formulaTensor(key: string, shape: readonly number[]): Float32Array {
  const [lo, hi] = formulaRange(key, shape);
  return formulaUniform(
    key,
    shape.reduce((a, b) => a * b, 1),
    lo,
    hi,
  );
}

/** The fixed test input: uniform in [-2, 2), stream 'input'. */
export const formulaInput = (shape: readonly number[]): Float32Array =>
  formulaUniform(
    'input',
    shape.reduce((a, b) => a * b, 1),
    -2,
    2,
  );

/**
 * A checkpoint with exactly the given keys and shapes (timm's state_dict, as committed in a keys fixture), F32
 * values by the formula; `num_batches_tracked` entries are I64 zeros, as in timm's own files.
 */
export function formulaCheckpoint(keys: Readonly<Record<string, readonly number[]>>): Record<string, CheckpointTensor> {
  const out: Record<string, CheckpointTensor> = {};
  for (const [key, shape] of Object.entries(keys)) {
    if (key.endsWith('num_batches_tracked')) out[key] = { dtype: 'I64', shape, bytes: new Uint8Array(8) };
    else {
      const v = formulaTensor(key, shape);
      out[key] = { dtype: 'F32', shape, bytes: new Uint8Array(v.buffer) };
    }
  }
  return out;
}

/** Agreement relative to the reference's scale: max |a - b| / max |b|. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

/** Committed logits of a model under formula weights and input (tools/fixtures/timm_logits.py). */
export interface FormulaLogits {
  readonly model: string;
  readonly timm: string;
  readonly torch: string;
  /** The input: formulaInput([1, 3, resolution, resolution]). */
  readonly input: { readonly formula: string; readonly shape: readonly number[] };
  readonly weights: string;
  /** Sample values of the generated weights, by key and index, as float32: both twins must make the same bits. */
  readonly probes: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly logits: readonly number[];
}

const FILL_RANGES: Partial<Record<ParamKind, [number, number]>> = {
  'bn-weight': [0.5, 1.5],
  'bn-bias': [-0.2, 0.2],
  'bn-mean': [-0.1, 0.1],
  'bn-var': [0.5, 1.5],
  bias: [-0.2, 0.2],
  'layer-scale': [0.3, 0.9],
};

/**
 * Formula weights (formulaUniform, keyed by parameter name) by parameter kind, for every family: for v4, whose parameter names are
 * timm's keys, the very weights whose logits timm's own run matches (v4.test.ts). Well conditioned: logits of order
 * 1 to 5 (max |logit| measured 0.4 to 4.6 at 64 px). The other seeded fills are not: torchvision's initialisation
 * gives v1-v3 logits of 1e-8 to 1e-17 (float16 rounds them to 0), fanInFill's LayerScale near 1 (before issue #15)
 * grew the hybrids' float32 activations to 1e10 (runtime-node's float16-check.test.ts keeps that model).
 */
export const formulaFill: ParamFiller = ({ name, dims, kind }) => {
  const n = dims.reduce((a, b) => a * b, 1);
  const a = Math.sqrt(3 / dims.slice(1).reduce((x, y) => x * y, 1));
  const [lo, hi] = FILL_RANGES[kind] ?? [-a, a];
  return formulaUniform(name, n, lo, hi);
};
