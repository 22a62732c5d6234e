// `pnpm bench --precisions fp32,fp16,int8`: the precisions, the goals and the checks; the files themselves
// are written by precision-files.ts, timed by worker.ts and reported by report.ts.
export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Engines whose cells time every precision in one process; the others (peers, browsers) run the fp32 graph. */
export const PRECISION_ENGINES = new Set(['cpu', 'cuda', 'wasm']);

/** The calibration the int8 files get: the CLI's default (mobilenet export --precision int8). */
export const CALIBRATION = { method: 'percentile', percentile: 99.99 } as const;

/** The goals (#15), shown beside the measured numbers. */
export const GOALS = {
  /** int8 at least this many times as fast as fp32 on onnxruntime-node CPU, 2 threads, batch 1, v2 and v3-large. */
  int8Speedup: 1.7,
  speedArchs: ['v2', 'v3-large'],
  /** File size over fp32's at most. */
  size: { fp32: 1, fp16: 0.51, int8: 0.27 } satisfies Record<Precision, number>,
} as const;

/**
 * How far another engine's logits may be from onnxruntime-node CPU's on the same file, over the logits' scale.
 * fp32 as the rest of the bench. int8: requantization rounds each activation to the nearest step, and a step one
 * engine rounds the other way moves the logits by a step's share. fp16: onnxruntime CPU here has float16 kernels,
 * WASM casts the same nodes to float32 and back.
 */
export const TOLERANCE: Record<Precision, number> = { fp32: 1e-3, fp16: 2e-2, int8: 5e-2 };

/** Signal over the difference, in dB: how close a precision's logits stay to fp32's. */
export function sqnr(ref: ArrayLike<number>, x: ArrayLike<number>): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < ref.length; i++) {
    signal += ref[i]! ** 2;
    noise += (ref[i]! - x[i]!) ** 2;
  }
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}
