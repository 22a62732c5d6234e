import { describe, expect, it } from 'vitest';
import type { CellResult } from './cell.js';
import type { Precision } from './precision.js';
import type { Row } from './report.js';
import { type PrecisionRefs, precisionRows, throughput, timedRow, withPeakShares } from './rows.js';

// Hand-made worker results: the arithmetic of a --precisions cell's rows, and the checks that fail a row.
const base: Row = {
  engine: 'wasm',
  arch: 'v2',
  width: 1,
  resolution: 224,
  batch: 1,
  threads: 2,
  runs: 4,
  warmup: 1,
  params: 3_504_872,
  macs: 300_774_272,
  status: 'skipped',
  precision: 'fp32',
};
const fp32 = Float32Array.of(4, -2, 1, 3);
// int8 off by 0.1 on each logit: SQNR 10 log10(30 / 0.04) = 28.75 dB.
const int8Cpu = Float32Array.of(4.1, -2.1, 1.1, 3.1);
const refs: PrecisionRefs = {
  logits: new Map<Precision, Float32Array>([
    ['fp32', fp32],
    ['fp16', Float32Array.of(4, -2, 1, 3.001)],
    ['int8', int8Cpu],
  ]),
  bytes: new Map([
    ['fp32', { path: '/m/v2-fp32.onnx', bytes: 1000 }],
    ['fp16', { path: '/m/v2-fp16.onnx', bytes: 502 }],
    ['int8', { path: '/m/v2-int8.onnx', bytes: 267 }],
  ]),
  fp32Bytes: 1000,
};
const result = (int8: number[], fp16 = Array.from(refs.logits.get('fp16')!)): CellResult => ({
  latencies: [],
  logits: [],
  threads: 2,
  peakRssMiB: 400,
  precisions: [
    { precision: 'fp32', latencies: [10, 12, 11, 30], logits: Array.from(fp32) },
    { precision: 'fp16', latencies: [20, 24, 22, 60], logits: fp16 },
    { precision: 'int8', latencies: [5, 8, 4, 10], logits: int8 },
  ],
});

describe('precisionRows', () => {
  it('sizes against fp32, speedups from the p50s and from the rounds, SQNR on non-fp32 rows', () => {
    const peak = { threads: 2, gmacs: 100, shape: [512, 512, 512] as const, runs: 10, ms: 1 };
    const rows = withPeakShares(precisionRows(base, result(Array.from(int8Cpu)), refs), [peak], new Set(['wasm']));
    expect(rows.map((r) => [r.precision, r.status, r.fileBytes, r.sizeRatio, r.rounds])).toEqual([
      ['fp32', 'ok', 1000, 1, 4],
      ['fp16', 'ok', 502, 0.502, 4],
      ['int8', 'ok', 267, 0.267, 4],
    ]);
    const [f32, f16, i8] = rows;
    // p50 = the sorted latencies' element at floor(0.5 n): 12, 24 and 8 ms.
    expect([f32!.p50, f16!.p50, i8!.p50]).toEqual([12, 24, 8]);
    expect([f32!.speedup, f16!.speedup, i8!.speedup]).toEqual([1, 0.5, 1.5]);
    // Per-round ratios: int8 10/5, 12/8, 11/4, 30/10 = 2, 1.5, 2.75, 3; their p50 is 2.75.
    expect(i8!.pairedSpeedup).toBe(2.75);
    expect(f16!.pairedSpeedup).toBe(0.5);
    expect(f32!.peakShare).toBeCloseTo(300_774_272 / 0.012 / 1e9 / 100, 9);
    expect(f16!.peakShare).toBeUndefined();
    expect(f32!.sqnr).toBeUndefined();
    expect(i8!.sqnr).toBeCloseTo(10 * Math.log10(30 / 0.04), 4);
    expect(f16!.maxRelDiff).toBe(0);
    // Throughput over each precision's own runs (they alternate): 4 images in 63, 126 and 27 ms.
    expect([f32!.windowMs, f16!.windowMs, i8!.windowMs]).toEqual([63, 126, 27]);
    expect(i8!.imagesPerSecond).toBeCloseTo(4000 / 27, 9);
  });

  it('fails fp16 logits off the CPU file by more than 1e-3 of the scale, and int8 more than 3 dB less faithful than CPU', () => {
    const fp16Off = [4, -2, 1, 3.01];
    // 0.22 off on each logit: 10 log10(30 / 0.1936) = 21.9 dB, 6.85 dB below CPU's 28.75 dB.
    const rows = precisionRows(base, result([4.22, -2.22, 1.22, 3.22], fp16Off), refs);
    expect(rows[1]).toMatchObject({
      status: 'mismatch',
      reason: 'max |logit - cpu| = 9.00e-3 (scale 4.0, tolerance 0.001 of it)',
    });
    expect(rows[2]).toMatchObject({
      status: 'mismatch',
      reason: "int8 SQNR against fp32's logits 21.9 dB, more than 3 dB below onnxruntime-node CPU's 28.8 dB",
    });
    // 0.12 off the other way on two logits: 27.2 dB, 1.6 below CPU's, though 0.22 from CPU's logits: passes.
    const close = precisionRows(base, result([3.88, -1.88, 1.12, 3.12]), refs)[2]!;
    expect(close).toMatchObject({ status: 'ok', maxRelDiff: expect.closeTo(0.22 / 4.1, 6) });
    expect(close.sqnr).toBeCloseTo(10 * Math.log10(30 / (4 * 0.12 ** 2)), 4);
  });
});

describe('throughput over the timed window', () => {
  // Nine runs of 10 ms and one stall of 100 ms: the p50 says 100 img/s, the runs 10 images in 190 ms.
  const latencies = [10, 10, 10, 10, 100, 10, 10, 10, 10, 10];
  const r = { latencies, logits: Array.from(fp32), threads: 1, peakRssMiB: 300 };

  it('is images over the wall time of the timed runs, not 1000 / p50', () => {
    expect(throughput(10, 1, 200)).toBe(50);
    expect(throughput(10, 4, 200)).toBe(200);
    // The worker's window (here 200 ms: the loop's own cost between runs) when it sent one.
    const row = timedRow({ ...base, batch: 1 }, fp32, { ...r, windowMs: 200 });
    expect(row.p50).toBe(10);
    expect(row.windowMs).toBe(200);
    expect(row.imagesPerSecond).toBe(50);
    expect(row.imagesPerSecond).not.toBeCloseTo(1000 / row.p50!, 0);
    // GMAC/s stays the p50's: the typical run, which the peak's share compares.
    expect(row.gmacs).toBeCloseTo(300_774_272 / 0.01 / 1e9, 9);
    // Without a window (a browser page of an older build): the sum of the runs.
    expect(timedRow(base, fp32, r).imagesPerSecond).toBeCloseTo(10_000 / 190, 9);
  });

  it("shares the peak at the row's thread count, on CPU engines' fp32 rows only", () => {
    const peaks = [1, 2].map((threads) => ({
      threads,
      gmacs: 10 * threads,
      shape: [1, 1, 1] as const,
      runs: 1,
      ms: 1,
    }));
    const rows = [
      timedRow({ ...base, threads: 1, precision: undefined }, fp32, { ...r, threads: 1 }),
      timedRow({ ...base, engine: 'webgpu', precision: undefined }, fp32, { ...r, threads: 2 }),
      timedRow({ ...base, precision: 'fp16' }, fp32, { ...r, threads: 2 }),
    ];
    const shared = withPeakShares(rows, peaks, new Set(['wasm']));
    expect(shared[0]!.peakShare).toBeCloseTo(rows[0]!.gmacs! / 10, 12);
    expect(shared[1]!.peakShare).toBeUndefined();
    expect(shared[2]!.peakShare).toBeUndefined();
  });
});
