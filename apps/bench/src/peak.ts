// The fp32 peak this machine reaches, measured rather than derived: clocks reported by /proc/cpuinfo differ between
// machines of the same kind and are not the boost clock, so cores x GHz x MACs/cycle is not a ceiling.
import { GraphBuilder, toOnnx } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { cpuOptions } from './shared/ort-options.js';

/** The best rate of one onnxruntime-node Gemm at a thread count: the ceiling "% of peak" is measured against. */
export interface Peak {
  readonly threads: number;
  /** Multiply-accumulates per second, in billions (1 MAC = 2 FLOP). */
  readonly gmacs: number;
  /** [M, K, N]: input [M, K] times weight [K, N] (Gemm with transB, plus a bias of N). */
  readonly shape: readonly [number, number, number];
  /** Timed runs per shape; the best one counts. */
  readonly runs: number;
  /** Latency of the best run, ms. */
  readonly ms: number;
}

/** Square Gemm sizes tried (MLAS sgemm, the kernel under onnxruntime's MatMul, Gemm and 1x1 Conv). */
export const PEAK_SIZES = [512, 1024] as const;

async function gemm(n: number, threads: number, runs: number): Promise<Peak> {
  const b = new GraphBuilder('peak', {
    init: ({ dims }) => new Float32Array(dims.reduce((a, d) => a * d, 1)).fill(1 / n),
  });
  b.output(b.linear(b.input('a', [n, n]), 'y', n));
  // Spinning left on (onnxruntime's default), as in the benchmark's cells.
  const s = await ort.InferenceSession.create(toOnnx(b.build()), cpuOptions({ threads }));
  try {
    const a = new ort.Tensor(
      'float32',
      new Float32Array(n * n).map((_, i) => Math.sin(i)),
      [n, n],
    );
    await s.run({ a }); // warm-up: packs the weight, starts the threads
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await s.run({ a });
      best = Math.min(best, performance.now() - t);
    }
    return { threads, gmacs: n ** 3 / (best / 1000) / 1e9, shape: [n, n, n], runs, ms: best };
  } finally {
    await s.release();
  }
}

/** The highest GMAC/s of square fp32 Gemms through onnxruntime-node at this thread count, best of `runs` each. */
export async function measurePeak(threads: number, o: { sizes: readonly number[]; runs: number }): Promise<Peak> {
  let best: Peak | undefined;
  for (const n of o.sizes) {
    const p = await gemm(n, threads, o.runs);
    if (!best || p.gmacs > best.gmacs) best = p;
  }
  return best!;
}

export function describePeak(p: Peak): string {
  const [m, k, n] = p.shape;
  return `${p.threads} thread(s) ${p.gmacs.toFixed(1)} GMAC/s (${(2 * p.gmacs).toFixed(1)} GFLOP/s; Gemm ${m}x${k} by ${k}x${n} in ${p.ms.toFixed(2)} ms)`;
}
