import { type Arch, conventionFor } from '@mobilenet/core';
import type { Precision } from './precision.js';

/** Where a model runs: our runtimes' backends, and the peers measured beside them. */
export const BACKENDS = ['cpu', 'cuda', 'wasm', 'webgpu', 'wasm-browser'] as const;
export const PEERS = ['ort', 'tfjs-wasm', 'tfjs-cpu'] as const;
export type Engine = (typeof BACKENDS)[number] | (typeof PEERS)[number];

export const ENGINE_LABEL: Record<Engine, string> = {
  cpu: 'ours: onnxruntime-node cpu',
  cuda: 'ours: onnxruntime-node cuda',
  wasm: 'ours: onnxruntime-web wasm (Node)',
  webgpu: 'ours: onnxruntime-web webgpu (Chromium)',
  'wasm-browser': 'ours: onnxruntime-web wasm (Chromium, cross-origin isolated)',
  ort: 'peer: bare onnxruntime-node session',
  'tfjs-wasm': 'peer: TensorFlow.js wasm',
  'tfjs-cpu': 'peer: TensorFlow.js cpu',
};

export interface Cell {
  readonly engine: Engine;
  readonly arch: Arch;
  readonly width: number;
  readonly resolution: number;
  readonly batch: number;
  readonly threads: number;
  readonly runs: number;
  readonly warmup: number;
  /**
   * --precisions: the model's files, one per precision, timed alternately in this cell's process on the same input
   * (the order rotates each round) so that their ratios are paired. Engines of PRECISION_ENGINES only.
   */
  readonly files?: readonly { readonly precision: Precision; readonly path: string }[];
}

/** One precision's share of a --precisions cell. */
export interface PrecisionTiming {
  readonly precision: Precision;
  readonly latencies: number[];
  /** First row of the logits for the fixed input. */
  readonly logits: number[];
}

export interface CellResult {
  readonly latencies: number[];
  /** Wall time of the timed loop, ms: the window throughput is measured over (absent: the sum of the latencies). */
  readonly windowMs?: number;
  /** cpu/cuda only: bare InferenceSession.run on the same session, interleaved with ours (the wrapper's overhead). */
  readonly bareLatencies?: number[];
  /** Ours, timed in the same interleaved loop as bareLatencies. */
  readonly oursInterleaved?: number[];
  /** First row of the logits for the fixed input, checked against the CPU reference. */
  readonly logits: number[];
  readonly threads: number;
  /** Peak RSS of the process that ran the cell (null for browser cells). */
  readonly peakRssMiB: number | null;
  readonly note?: string;
  /** --precisions cells: each file's timings, in the cell's file order (latencies and logits above are then empty). */
  readonly precisions?: readonly PrecisionTiming[];
}

/** The fixed input every engine sees (the demo page's benchmark feeds the same one): [batch, 3, R, R], NCHW. */
export { fixedInput } from '@mobilenet/test-support';

/** Seeded models in torchvision's convention where the family has one; v4 in its own (timm's). */
export const modelOptions = (c: Pick<Cell, 'arch' | 'width' | 'resolution' | 'batch'>) =>
  ({
    arch: c.arch,
    width: c.width,
    resolution: c.resolution,
    batch: c.batch,
    convention: conventionFor(c.arch, 'torchvision'),
  }) as const;
