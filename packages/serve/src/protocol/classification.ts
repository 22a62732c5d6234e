// Triton's classification extension (triton-inference-server/server, docs/protocol/extension_classification.md):
// an output requested with `parameters: { classification: K }` comes back as BYTES of shape [batch, K] (or [K]),
// each element "value:index[:label]". The strings are built as Triton's src/classification.cc builds them:
// `std::to_string(value) + ":" + std::to_string(index)` (so an FP32 3.3 reads "3.300000", printf's %f; the
// document's own example shortens it to "3.3"), then ":" and the label where the model has one for that index.
// Triton compares with the output's own datatype and sorts with std::sort (ties in no set order); here ties go to
// the lower index, and NaN sorts last.
import { DATATYPES, type Datatype, type TensorData } from './datatypes.js';
import { ProtocolError, type Tensor } from './types.js';

const utf8 = new TextEncoder();

/**
 * A double as C's printf("%f") writes it: exactly rounded to 6 decimals, ties to even (glibc), "-" kept on
 * negative zero, "inf"/"-inf"/"nan" for the rest. This is what std::to_string(float|double) returns.
 */
export function formatFixed6(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const negative = hi >>> 31 === 1;
  const exponentBits = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (exponentBits === 0) exponent = -1074;
  else {
    mantissa |= 1n << 52n;
    exponent = exponentBits - 1075;
  }
  // |x| = mantissa * 2^exponent; q = round_half_even(|x| * 10^6).
  let q: bigint;
  if (exponent >= 0) q = (mantissa << BigInt(exponent)) * 1_000_000n;
  else {
    const num = mantissa * 1_000_000n;
    const den = 1n << BigInt(-exponent);
    q = num / den;
    const twice = (num % den) * 2n;
    if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  }
  const digits = q.toString().padStart(7, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

// What Triton classifies: every datatype read as numbers in JSON (not BOOL, BYTES, or the binary-only FP16/BF16).
const NUMERIC = new Set<Datatype>(DATATYPES.filter((d) => !['BOOL', 'FP16', 'BF16', 'BYTES'].includes(d)));

/** Whether element `a` ranks before `b`: higher value first, ties to the lower index, NaN last. */
function before(row: ArrayLike<number | bigint>, a: number, b: number): boolean {
  const va = row[a]!;
  const vb = row[b]!;
  const na = typeof va === 'number' && Number.isNaN(va);
  const nb = typeof vb === 'number' && Number.isNaN(vb);
  if (na || nb) return na === nb ? a < b : nb;
  return va > vb || (va === vb && a < b);
}

/**
 * The indices of the top `k` of a row, in rank order. A few classes of a thousand are kept in a short sorted list
 * (one pass, each element compared with the last kept), not by sorting all of them: this runs per request.
 */
function topIndices(row: ArrayLike<number | bigint>, k: number): number[] {
  const n = Math.min(k, row.length);
  if (n > 64) {
    const all = Array.from({ length: row.length }, (_, i) => i);
    return all.sort((a, b) => (before(row, a, b) ? -1 : 1)).slice(0, n);
  }
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    if (best.length === n && !before(row, i, best[n - 1]!)) continue;
    let at = best.length === n ? n - 1 : best.length;
    while (at > 0 && before(row, i, best[at - 1]!)) at--;
    best.splice(at, 0, i);
    if (best.length > n) best.pop();
  }
  return best;
}

/** The Triton strings of the top `k` of one row. */
function topK(row: ArrayLike<number | bigint>, k: number, float: boolean, labels?: readonly string[]): string[] {
  return topIndices(row, k).map((i) => {
    const v = row[i]!;
    const value = float ? formatFixed6(v as number) : String(v);
    const label = labels?.[i];
    return label === undefined ? `${value}:${i}` : `${value}:${i}:${label}`;
  });
}

/**
 * The classification of one output tensor: BYTES of shape [batch, min(k, classes)] when `batched` (the first
 * dimension is the batch, as Triton does for a model with max_batch_size > 0), else [min(k, elements)]. FP16,
 * BF16, BOOL and BYTES outputs are refused, as Triton refuses them.
 */
export function classify(output: Tensor, k: number, options: { batched: boolean; labels?: readonly string[] }): Tensor {
  if (!NUMERIC.has(output.datatype)) {
    throw new ProtocolError(
      `outputs '${output.name}': class result not available for output due to unsupported type '${output.datatype}'`,
    );
  }
  const data = output.data as Exclude<TensorData, Uint8Array[]>;
  const batched = options.batched && output.shape.length > 0;
  const batch = batched ? output.shape[0]! : 1;
  const per = batch === 0 ? 0 : data.length / batch;
  const float = output.datatype === 'FP32' || output.datatype === 'FP64';
  const strings: string[] = [];
  for (let b = 0; b < batch; b++) {
    strings.push(...topK(data.subarray(b * per, (b + 1) * per), k, float, options.labels));
  }
  const count = Math.min(k, per);
  return {
    name: output.name,
    datatype: 'BYTES',
    shape: batched ? [batch, count] : [count],
    data: strings.map((s) => utf8.encode(s)),
  };
}
