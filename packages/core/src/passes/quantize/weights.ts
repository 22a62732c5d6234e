// Int8 weights that no onnxruntime CPU kernel can saturate.
//
// On x86 without VNNI (AVX2, and AVX-512 without VNNI), MLAS multiplies uint8 activations by int8 weights with
// VPMADDUBSW: it adds the products of two neighbouring K elements (2j, 2j+1) in int16, saturating at
// [-32768, 32767], before widening to int32. With activation codes up to 255 and weight codes up to 127 a pair
// reaches 64770: the sum clips and the layer's output is wrong. VNNI (VPDPBUSD), ARM and WASM accumulate in 32 bits.
//
// MLAS's K order, measured on an AVX2 CPU (u8s8-pairs.test.ts): for a Conv, kernel position outermost and input
// channel innermost ((ky, kx, c), the NHWC im2col order, in both its ConvSym and its QGEMM path); for a Gemm, the
// input features in order. Depthwise convs have their own kernels, which do not saturate.

/** Which kernels a quantized file is made for. */
export type Int8Target = 'portable' | 'vnni';
export const INT8_TARGETS: readonly Int8Target[] = ['portable', 'vnni'];

/**
 * The largest sum of two same-signed weight codes in a K pair that cannot saturate: 255 * 128 = 32640 <= 32767 and
 * -255 * 128 >= -32768. A pair of opposite signs never saturates (255 * 127 < 32767).
 */
export const PAIR_LIMIT = 128;

/** How a weight tensor is laid out: output channels, and the element offset of (channel o, K index k). */
export interface WeightLayout {
  readonly channels: number;
  readonly k: number;
  readonly offset: (o: number, k: number) => number;
}

/** A Conv weight [O, C, kh, kw] in MLAS's K order: (ky, kx) outermost, input channel innermost. */
export function convLayout(dims: readonly number[]): WeightLayout {
  const [o, c, kh = 1, kw = 1] = dims as [number, number, number?, number?];
  const taps = kh * kw;
  return { channels: o, k: c * taps, offset: (ch, k) => ch * c * taps + (k % c) * taps + Math.floor(k / c) };
}

/** A Gemm weight: [O, K] when transB is 1, [K, O] when it is 0. */
export function gemmLayout(dims: readonly number[], transB: boolean): WeightLayout {
  const [a, b] = dims as [number, number];
  return transB
    ? { channels: a, k: b, offset: (o, k) => o * b + k }
    : { channels: b, k: a, offset: (o, k) => k * b + o };
}

/** The largest same-signed |a| + |b| over the K pairs (2j, 2j+1) of one channel's values in K order. */
function worstPair(v: ArrayLike<number>): number {
  let worst = 0;
  for (let j = 0; j + 1 < v.length; j += 2) {
    const a = v[j]!;
    const b = v[j + 1]!;
    if ((a > 0 && b > 0) || (a < 0 && b < 0)) worst = Math.max(worst, Math.abs(a) + Math.abs(b));
  }
  return worst;
}

/** Round half to even, as QuantizeLinear does (Math.round takes halves up). */
const roundEven = (v: number): number => {
  const r = Math.round(v);
  return r - v === 0.5 && r & 1 ? r - 1 : r;
};

/**
 * Codes of `v` at scale `s` in [-127, 127] written to `q`, with every same-signed pair brought within PAIR_LIMIT
 * when `safe`; returns their squared error.
 */
function codesAt(v: Float64Array, s: number, safe: boolean, q: Int8Array): number {
  for (let i = 0; i < v.length; i++) q[i] = Math.max(-127, Math.min(127, roundEven(v[i]! / s)));
  if (safe)
    for (let j = 0; j + 1 < q.length; j += 2) {
      const a = q[j]!;
      const b = q[j + 1]!;
      if (a > 0 !== b > 0 || a === 0 || b === 0 || Math.abs(a) + Math.abs(b) <= PAIR_LIMIT) continue;
      // The two magnitudes that sum to PAIR_LIMIT nearest (least squares) to the values' own, |a|/s and |b|/s.
      const ta = Math.abs(v[j]!) / s;
      const tb = Math.abs(v[j + 1]!) / s;
      const ma = Math.max(PAIR_LIMIT - 127, Math.min(127, Math.round(ta + (PAIR_LIMIT - ta - tb) / 2)));
      const sign = a > 0 ? 1 : -1;
      q[j] = sign * ma;
      q[j + 1] = sign * (PAIR_LIMIT - ma);
    }
  let e = 0;
  for (let i = 0; i < v.length; i++) e += (q[i]! * s - v[i]!) ** 2;
  return e;
}

/** Scales tried between the plain one (max / 127) and the one that makes every pair fit by itself. */
const STEPS = 6;

/**
 * One output channel's codes and scale. 'vnni': the plain symmetric scale max / 127. 'portable': among scales from
 * max / 127 up to worst pair / 127.5 (where rounding alone keeps each pair within PAIR_LIMIT), the one with the least
 * squared error once the pairs still over the limit are brought within it. Only channels with a pair over the limit
 * change, and they lose less than a bit.
 */
function quantizeChannel(v: Float64Array, target: Int8Target): { codes: Int8Array; scale: number; adjusted: boolean } {
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  const plain = Math.fround(m > 0 ? m / 127 : 1);
  const safe = target === 'portable';
  const codes = new Int8Array(v.length);
  // Rounding adds at most 1 to a pair's sum: below 127.5 the plain codes fit.
  const wide = worstPair(v) / 127.5;
  if (!safe || wide <= plain) {
    codesAt(v, plain, safe, codes);
    return { codes, scale: plain, adjusted: false };
  }
  let best = plain;
  let bestError = codesAt(v, plain, true, codes);
  for (let i = 1; i <= STEPS; i++) {
    const s = Math.fround(plain * (wide / plain) ** (i / STEPS));
    const e = codesAt(v, s, true, codes);
    if (e < bestError) [best, bestError] = [s, e];
  }
  codesAt(v, best, true, codes);
  return { codes, scale: best, adjusted: true };
}

/** Symmetric int8 per output channel ([-127, 127], zero point 0), laid out as the float weight was. */
export function quantizeWeight(
  w: Float32Array,
  layout: WeightLayout,
  target: Int8Target,
): { data: Int8Array; scales: Float32Array; adjusted: number } {
  const scales = new Float32Array(layout.channels);
  const data = new Int8Array(w.length);
  const v = new Float64Array(layout.k);
  let adjusted = 0;
  for (let o = 0; o < layout.channels; o++) {
    for (let k = 0; k < layout.k; k++) v[k] = w[layout.offset(o, k)]!;
    const { codes, scale, adjusted: changed } = quantizeChannel(v, target);
    scales[o] = scale;
    for (let k = 0; k < layout.k; k++) data[layout.offset(o, k)] = codes[k]!;
    if (changed) adjusted++;
  }
  return { data, scales, adjusted };
}
