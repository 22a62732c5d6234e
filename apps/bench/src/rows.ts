// Rows from a worker's result: each engine's logits checked against onnxruntime-node CPU before its times count.
import type { CellResult, PrecisionTiming } from './cell.js';
import { INT8_SQNR_MARGIN_DB, type Precision, TOLERANCE, sqnr } from './precision.js';
import { type Row, percentile } from './report.js';

/**
 * A timed row from a worker's latencies and logits: checked against the CPU reference logits (`tolerance` of their
 * scale), with p50/p90, images/s, GMAC/s and, given a peak, its share.
 */
export function timedRow(
  base: Row,
  ref: Float32Array,
  r: Pick<CellResult, 'latencies' | 'logits' | 'threads' | 'peakRssMiB'>,
  peak: { gmacs: number } | undefined,
  tolerance = 1e-3,
): Row {
  if (r.logits.length !== ref.length || r.logits.length === 0)
    return {
      ...base,
      status: 'mismatch',
      reason: `expected ${ref.length} logits like cpu, received ${r.logits.length}`,
    };
  const diff = Math.max(...r.logits.map((v, k) => Math.abs(v - ref[k]!)));
  const scale = Math.max(1, ...Array.from(ref, Math.abs));
  const rel = diff / scale;
  const p50 = percentile(r.latencies, 0.5);
  const gmacs = (base.macs * base.batch) / (p50 / 1000) / 1e9;
  return {
    ...base,
    status: rel < tolerance ? 'ok' : 'mismatch',
    ...(!(rel < tolerance) && {
      reason: `max |logit - cpu| = ${diff.toExponential(2)} (scale ${scale.toFixed(1)}, tolerance ${tolerance} of it)`,
    }),
    p50,
    p90: percentile(r.latencies, 0.9),
    imagesPerSecond: (1000 * base.batch) / p50,
    gmacs,
    ...(peak && { peakShare: gmacs / peak.gmacs }),
    peakRssMiB: r.peakRssMiB,
    maxRelDiff: rel,
    threads: r.threads,
  };
}

/** The CPU reference of one model at each precision: onnxruntime-node's logits for the fixed input, per file. */
export interface PrecisionRefs {
  readonly logits: ReadonlyMap<Precision, Float32Array>;
  readonly bytes: ReadonlyMap<Precision, { path: string; bytes: number }>;
  readonly fp32Bytes: number;
}

/**
 * One row per precision of a --precisions cell: fp32 and fp16 checked against the CPU logits of the same file, int8
 * by its SQNR against fp32 (INT8_SQNR_MARGIN_DB); sized, and compared with the fp32 row of the same rounds (the fp32
 * peak's share on the fp32 row only).
 */
export function precisionRows(
  base: Row,
  r: CellResult,
  refs: PrecisionRefs,
  peak: { gmacs: number } | undefined,
): Row[] {
  const timings = r.precisions!;
  const fp32 = timings.find((t) => t.precision === 'fp32');
  const rows = timings.map((t: PrecisionTiming) => {
    const file = refs.bytes.get(t.precision)!;
    const row = timedRow(
      {
        ...base,
        precision: t.precision,
        file: file.path,
        fileBytes: file.bytes,
        sizeRatio: file.bytes / refs.fp32Bytes,
        rounds: t.latencies.length,
      },
      refs.logits.get(t.precision)!,
      { ...t, threads: r.threads, peakRssMiB: r.peakRssMiB },
      t.precision === 'fp32' ? peak : undefined,
      t.precision === 'int8' ? Infinity : TOLERANCE[t.precision],
    );
    if (row.p50 === undefined) return row;
    const fidelity = t.precision === 'fp32' ? undefined : sqnr(refs.logits.get('fp32')!, t.logits);
    return {
      ...row,
      ...(fidelity !== undefined && { sqnr: fidelity }),
      ...(t.precision === 'int8' && int8Check(fidelity!, sqnr(refs.logits.get('fp32')!, refs.logits.get('int8')!))),
      ...(fp32 && {
        speedup: percentile(fp32.latencies, 0.5) / row.p50,
        pairedSpeedup: percentile(
          t.latencies.map((v, i) => fp32.latencies[i]! / v),
          0.5,
        ),
      }),
    };
  });
  return rows;
}

/** An engine's int8 is as faithful to fp32 as onnxruntime-node CPU's, within INT8_SQNR_MARGIN_DB. */
function int8Check(engine: number, cpu: number): Partial<Row> {
  if (engine >= cpu - INT8_SQNR_MARGIN_DB) return {};
  return {
    status: 'mismatch',
    reason: `int8 SQNR against fp32's logits ${engine.toFixed(1)} dB, more than ${INT8_SQNR_MARGIN_DB} dB below onnxruntime-node CPU's ${cpu.toFixed(1)} dB`,
  };
}
