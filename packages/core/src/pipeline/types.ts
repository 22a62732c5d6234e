import type { ExtraFeed } from '../tasks/task.js';

/**
 * An image decoded and preprocessed into its [3, S, S] tensor, or the error that stopped it (named).
 * @internal
 */
export type PreparedImage =
  | {
      readonly name: string;
      readonly tensor: Float32Array;
      /** The decoded image's size, which detection and segmentation answer in (0 when the decoder does not say). */
      readonly width?: number;
      readonly height?: number;
      readonly decodeMs?: number;
      readonly preprocessMs?: number;
    }
  | { readonly name: string; readonly error: string };

/**
 * One image's rows of the outputs asked (in their order) and its decoded size, or its error.
 * @internal
 */
export type PipelineRow =
  | { readonly name: string; readonly rows: readonly Float32Array[]; readonly width: number; readonly height: number }
  | { readonly name: string; readonly error: string };

/**
 * What one run reads: the outputs, the inputs beside the image, and whether a non-finite value fails its image.
 * @internal
 */
export interface PipelineRead {
  readonly outputs: readonly string[];
  readonly feeds?: Readonly<Record<string, ExtraFeed>>;
  readonly finite: boolean;
}

/** @internal */
export type PipelineSources<Source> = Iterable<Source> | AsyncIterable<Source>;

/**
 * What a runtime supplies to the pipeline: how one image becomes a tensor (its decoder: sharp, canvases, workers).
 * A failure to decode is a `PreparedImage` error, and the others go on; a rejected `prepare` fails the whole run.
 * @internal
 */
export interface PipelineDecoder<Source> {
  prepare(source: Source, index: number): Promise<PreparedImage>;
  /** Takes a tensor back once it is copied into a batch, to fill again. */
  recycle?(tensor: Float32Array): void;
  /** Stops what the decoder started (workers), after the last batch or an early `break`. */
  close?(): void;
}

/**
 * The model as the pipeline runs it: the session facade's backend run (which disposes its tensors).
 * @internal
 */
export interface PipelineModel {
  readonly fixedBatch: number | null;
  readonly info: { readonly inputSize: number };
  /** One array per output of `outputs`, row-major, `batch` rows each. */
  runBatch(
    input: Float32Array,
    batch: number,
    outputs: readonly string[],
    feeds?: Readonly<Record<string, ExtraFeed>>,
  ): Promise<Float32Array[]>;
}

/** One model run: how many images, and milliseconds spent waiting for inputs, running, and postprocessing. */
export interface BatchStats {
  readonly images: number;
  readonly failed: number;
  readonly batch: number;
  readonly waitMs: number;
  readonly runMs: number;
  readonly postMs: number;
  /** Decode and preprocess time of this batch's images (overlapping the previous run where the CPU allows). */
  readonly decodeMs: number;
  readonly preprocessMs: number;
  /** When the run started and ended (`performance.now()` milliseconds), for timelines; equal when nothing ran. */
  readonly runStart: number;
  readonly runEnd: number;
  /** Decodes allowed in flight while this batch was gathered (0 where the runtime does not say). */
  readonly decoders: number;
}

/**
 * When one image waited for a decoder, decoded and was preprocessed (`performance.now()` milliseconds), for timelines
 * (`mobilenet profile --pipeline`). `index` is its place in the input; `ok` is false when it failed.
 */
export interface ImageTiming {
  readonly index: number;
  readonly name: string;
  readonly queued: number;
  readonly decodeStart: number;
  readonly decodeEnd: number;
  readonly preprocessEnd: number;
  readonly ok: boolean;
}

/**
 * How the pipeline sizes its batches and how far it decodes ahead.
 * @internal
 */
export interface PipelinePlan {
  /** The next batch's size, and what a run of a full batch took (see BatchSizer). */
  readonly sizer: { readonly next: number; record(size: number, ms: number): void };
  /** Images kept in flight while a batch of `size` runs. */
  ahead(size: number): number;
  /** Decodes allowed in flight now, where the runtime bounds them. */
  decoders?(): number;
  /** Called after each model run with the time each stage took. */
  readonly onBatch?: (stats: BatchStats) => void;
}
