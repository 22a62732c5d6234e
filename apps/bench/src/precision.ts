// `pnpm bench --precisions fp32,fp16,int8`: the precisions, the goals and the checks; the files themselves
// are written by precision-files.ts, timed by worker.ts and reported by report.ts.
export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Engines whose cells time every precision in one process; the others (peers, browsers) run the fp32 graph. */
export const PRECISION_ENGINES = new Set(['cpu', 'cuda', 'wasm']);

/** The calibration the int8 files get: the CLI's default (mobilenet export --precision int8). */
export const CALIBRATION = { method: 'percentile', percentile: 99.99 } as const;

/**
 * The issues' goals (#15, #21), shown beside the measured numbers. int8 speed-ups over fp32 on onnxruntime-node CPU,
 * 2 threads, batch 1, by the CPU's int8 kernel path: 32-bit accumulation (VNNI, AMX, ARM dot product) or AVX2's
 * VPMADDUBSW (AVX2 and AVX-512 without VNNI).
 */
export const GOALS = {
  int8Speedup: {
    accumulating: { v2: 1.7, 'v3-large': 1.5 },
    vpmaddubsw: { v2: 1.3 },
  } as Readonly<Record<'accumulating' | 'vpmaddubsw', Readonly<Record<string, number>>>>,
  /** File size over fp32's at most. */
  size: { fp32: 1, fp16: 0.51, int8: 0.27 } satisfies Record<Precision, number>,
} as const;

/**
 * fp32 and fp16: how far another engine's logits may be from onnxruntime-node CPU's on the same file, over the
 * logits' scale (the rest of the bench's bound; fp16 measured 4e-7 to 6e-6 on WASM, which computes the same casts).
 */
export const TOLERANCE = { fp32: 1e-3, fp16: 1e-3 } as const;

/**
 * int8: engines agree only to the quantization noise itself, so they are held to their fidelity instead. Each
 * activation is rounded to a step; onnxruntime-node CPU's fused QLinear kernels requantize the int32 sums, WASM runs
 * (parts of) the QDQ graph in float, and a step rounded the other way grows through the layers of a seeded,
 * untrained model: on the fixed input v3-large's CPU int8 logits were 12.8 dB SQNR from the same file run unfused,
 * while int8 itself is 8.6 dB from fp32. An engine's int8 SQNR against fp32 may be at most this far below CPU's.
 */
export const INT8_SQNR_MARGIN_DB = 3;
