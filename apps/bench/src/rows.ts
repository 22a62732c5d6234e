// Rows from a worker's result: each engine's logits checked against onnxruntime-node CPU before its times count.
import { int8KernelsHere } from '@mobilenet/runtime-node';
import type { CellResult, PrecisionTiming } from './cell.js';
import { INT8_SQNR_MARGIN_DB, type Precision, TOLERANCE } from './precision.js';
import type { Peak } from './peak.js';
import type { Row } from './report.js';
import { sqnr } from './shared/fidelity.js';
import { percentile } from './shared/stats.js';

/**
 * Images per second over the timed window: every image timed over the wall time of the timed runs. 1000 / p50
 * overstates it whenever some runs are slow (a stall, a descheduled thread), which is what throughput pays for.
 */
export const throughput = (runs: number, batch: number, windowMs: number) => (1000 * runs * batch) / windowMs;

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * A timed row from a worker's latencies and logits: checked against the CPU reference logits (`tolerance` of their
 * scale), with p50/p90, throughput over the timed window (`windowMs`, else the sum of the latencies) and GMAC/s.
 */
export function timedRow(
  base: Row,
  ref: Float32Array,
  r: Pick<CellResult, 'latencies' | 'logits' | 'threads' | 'peakRssMiB' | 'windowMs'>,
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
  const windowMs = r.windowMs ?? sum(r.latencies);
  return {
    ...base,
    status: rel < tolerance ? 'ok' : 'mismatch',
    ...(!(rel < tolerance) && {
      reason: `max |logit - cpu| = ${diff.toExponential(2)} (scale ${scale.toFixed(1)}, tolerance ${tolerance} of it)`,
    }),
    p50,
    p90: percentile(r.latencies, 0.9),
    imagesPerSecond: throughput(r.latencies.length, base.batch, windowMs),
    windowMs,
    gmacs,
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
 * Each CPU row's GMAC/s over the peak at its thread count (fp32 rows only: the peak is an fp32 Gemm). `engines`
 * says which engines run on the CPU; GPU rows get no share.
 */
export function withPeakShares(rows: readonly Row[], peaks: readonly Peak[], engines: ReadonlySet<string>): Row[] {
  return rows.map((r) => {
    const peak = peaks.find((p) => p.threads === r.threads);
    if (!peak || r.gmacs === undefined || !engines.has(r.engine) || (r.precision ?? 'fp32') !== 'fp32') return r;
    return { ...r, peakShare: r.gmacs / peak.gmacs };
  });
}

/**
 * One row per precision of a --precisions cell: fp32 and fp16 checked against the CPU logits of the same file, int8
 * by its SQNR against fp32 (INT8_SQNR_MARGIN_DB); sized, and compared with the fp32 row of the same rounds. A
 * precision's window is the sum of its own runs: the rounds interleave the precisions.
 */
export function precisionRows(base: Row, r: CellResult, refs: PrecisionRefs): Row[] {
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
        ...(t.precision === 'int8' && base.engine === 'cpu' && { int8Kernels: int8KernelsHere().path }),
      },
      refs.logits.get(t.precision)!,
      { ...t, threads: r.threads, peakRssMiB: r.peakRssMiB },
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
