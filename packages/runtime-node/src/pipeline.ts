import './ort-env.js';
import { availableParallelism } from 'node:os';
import {
  type BatchStats,
  BatchSizer,
  type ClassifyResult,
  type EmbedResult,
  type ImageModelSession,
  type ImageTiming,
  MobileNetError,
  type PipelineDecoder,
  type PipelinePlan,
  type Preprocessing,
  type PreparedImage,
  Slots,
  classifyTask,
  type DetectOptions,
  type DetectResult,
  detectTask,
  embedTask,
  type SegmentOptions,
  type SegmentResult,
  segmentTask,
  pipelineResults,
  preprocess,
} from '@mobilenet/core';
import { type DecodeMode, DECODE_MODES, decodeFor } from './decode-fast.js';
import { type ImageInput, imageName } from './image.js';
import { decodersAfter, startDecoders } from './pipeline-tuning.js';

export type { BatchStats, ImageTiming } from '@mobilenet/core';

export interface PipelineOptions {
  /** Images per model run. Default: chosen by timing the model on the first batches (up to `maxBatch`). */
  readonly batch?: number;
  /** Largest automatic batch. Default 16. */
  readonly maxBatch?: number;
  /**
   * Images decoding at once (each on libvips' threads). Default: twice the number of CPUs (at least 4) to begin
   * with, growing while the model waits for decodes (up to the batch plus twice the CPUs; see `decodersAfter`).
   */
  readonly decoders?: number;
  /** 'exact' (default) or 'shrink-on-load' for large JPEGs: see DecodeMode. */
  readonly decode?: DecodeMode;
  /** Largest width x height decoded; a bigger image is reported by name. Default DEFAULT_MAX_PIXELS (100 M). */
  readonly maxPixels?: number;
  /** Classes per image for classifyAll. Default 5. */
  readonly topK?: number;
  /** Called after each model run with the time each stage took, for progress and profiles. */
  readonly onBatch?: (stats: BatchStats) => void;
  /** Called as each image is decoded and preprocessed (or fails), with when each step began and ended: timelines. */
  readonly onImage?: (timing: ImageTiming) => void;
  /** classifyAll: called with each image's raw logits before softmax (e.g. to check they carry a signal). */
  readonly onLogits?: (image: string, logits: Float32Array) => void;
}

export type ImageSources = Iterable<ImageInput> | AsyncIterable<ImageInput>;

/**
 * Most images per run and decodes in flight: a batch of 1e7 would allocate its input (150 GB at 224) before
 * failing with a raw RangeError. The CLI's profile takes batches up to the same 1024.
 */
export const MAX_PIPELINE_BATCH = 1024;

function checkOptions(o: PipelineOptions): void {
  const positive = (key: string, v: number | undefined, max = Number.MAX_SAFE_INTEGER) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > max))
      throw new MobileNetError(
        'option',
        `option ${key}`,
        max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer from 1 to ${max}`,
        String(v),
      );
  };
  positive('batch', o.batch, MAX_PIPELINE_BATCH);
  positive('maxBatch', o.maxBatch, MAX_PIPELINE_BATCH);
  positive('decoders', o.decoders, MAX_PIPELINE_BATCH);
  positive('topK', o.topK);
  positive('maxPixels', o.maxPixels);
  if (o.decode !== undefined && !DECODE_MODES.includes(o.decode)) {
    throw new MobileNetError('option', 'option decode', `one of ${DECODE_MODES.join(', ')}`, String(o.decode));
  }
}

function checkSources(sources: ImageSources): void {
  if (typeof sources === 'string' || sources instanceof Uint8Array) {
    throw new MobileNetError(
      'option',
      'sources',
      'an iterable of images (e.g. an array of paths)',
      typeof sources === 'string' ? `the string '${sources}'` : 'one Uint8Array',
    );
  }
}

// Each decode crosses this thread a few times (read, header, pixels), and a model run blocks it: enough decodes in
// flight keep the libvips threads busy through a run (measured: the model waited half as long with 8 as with 2).
const decodersFor = (o: PipelineOptions) => o.decoders ?? startDecoders(availableParallelism());

/** The most decodes in flight the automatic count grows to: a batch's worth beyond the start. */
const MAX_AUTO_DECODERS = 64;

/**
 * sharp's decoder for the pipeline: at most `decoders` images decode at once (on libvips' threads), each into a
 * tensor taken from a pool the pipeline hands back once a batch is copied.
 */
function sharpDecoder(pre: Preprocessing, o: PipelineOptions, slots: Slots): PipelineDecoder<ImageInput> {
  const mode = o.decode ?? 'exact';
  const limits = o.maxPixels === undefined ? {} : { maxPixels: o.maxPixels };
  const n = 3 * pre.size * pre.size;
  const pool: Float32Array[] = [];
  const prepare = async (source: ImageInput, index: number): Promise<PreparedImage> => {
    const name = imageName(source, index);
    const queued = performance.now();
    await slots.acquire();
    const t0 = performance.now();
    let t1 = t0;
    let ok = false;
    try {
      const img = await decodeFor(source, name, pre, mode, limits);
      t1 = performance.now();
      const tensor = preprocess(img, pre, pool.pop() ?? new Float32Array(n));
      const size = { width: img.width, height: img.height };
      ok = true;
      return { name, tensor, ...size, decodeMs: t1 - t0, preprocessMs: performance.now() - t1 };
    } catch (e) {
      return { name, error: (e as Error).message };
    } finally {
      slots.release();
      const end = performance.now();
      o.onImage?.({ index, name, queued, decodeStart: t0, decodeEnd: ok ? t1 : end, preprocessEnd: end, ok });
    }
  };
  return { prepare, recycle: (tensor) => pool.push(tensor) };
}

/**
 * Batch sizes (timed, see BatchSizer), read-ahead (two batches and the decoders' worth), and the decoders: a fixed
 * count when asked, else grown while the model waits for decodes.
 */
function nodePlan(session: ImageModelSession<ImageInput>, o: PipelineOptions, slots: Slots): PipelinePlan {
  const maxBatch = session.fixedBatch ?? o.batch ?? o.maxBatch ?? 16;
  const cores = availableParallelism();
  let decoders = decodersFor(o);
  const cap = Math.min(MAX_AUTO_DECODERS, Math.max(decoders, maxBatch + startDecoders(cores)));
  // On the CPU a run of 1-4 images costs 13-130% more per image than one of 8 (v2, v3-small: docs/benchmarks.md),
  // and a pipeline's timings are too noisy to stop the doubling reliably before 8: the sizing starts there.
  const sizer = new BatchSizer(session.fixedBatch, o.batch, maxBatch, undefined, session.backend === 'cpu' ? 8 : 1);
  return {
    sizer,
    ahead: (size) => 2 * size + decoders,
    decoders: () => decoders,
    onBatch: (s) => {
      o.onBatch?.(s);
      // Judged on batches of the settled size: a first run of one image waits on its one decode whatever the count.
      if (o.decoders !== undefined || !sizer.isSettled || s.images < s.batch) return;
      const next = decodersAfter(s, decoders, cores, cap);
      slots.grow(next - decoders);
      decoders = next;
    },
  };
}

/** The pipeline's runtime parts for Node, made once the task and options are checked. */
function nodeRun(session: ImageModelSession<ImageInput>, sources: ImageSources, o: PipelineOptions) {
  const slots = new Slots(decodersFor(o));
  return {
    decoder: () => {
      checkOptions(o);
      checkSources(sources);
      return sharpDecoder(session.info.preprocessing, o, slots);
    },
    plan: nodePlan(session, o, slots),
  };
}

/** Top-k classes for each image of `sources` (a `NodeSession`, or any session of the shared facade), in input order, as an async iterator. */
export async function* classifyAll(
  session: ImageModelSession<ImageInput>,
  sources: ImageSources,
  o: PipelineOptions = {},
): AsyncGenerator<ClassifyResult> {
  const onLogits = o.onLogits;
  yield* pipelineResults(session, sources, classifyTask, o, {
    ...nodeRun(session, sources, o),
    ...(onLogits && { onRow: (r) => 'rows' in r && onLogits(r.name, r.rows[0]!) }),
  });
}

/** The embedding of each image of `sources`, in input order, as an async iterator. */
export async function* embedAll(
  session: ImageModelSession<ImageInput>,
  sources: ImageSources,
  o: PipelineOptions = {},
): AsyncGenerator<EmbedResult> {
  yield* pipelineResults(session, sources, embedTask, {}, nodeRun(session, sources, o));
}

/**
 * Detections of each image of `sources`, in input order, in its own pixels. Images decode exactly ('shrink-on-load'
 * would change the size the boxes are given in).
 */
export async function* detectAll(
  session: ImageModelSession<ImageInput>,
  sources: ImageSources,
  o: PipelineOptions & DetectOptions = {},
): AsyncGenerator<DetectResult> {
  const exact = { ...o, decode: 'exact' } as const;
  yield* pipelineResults(session, sources, detectTask, o, nodeRun(session, sources, exact));
}

/** A class per pixel of each image of `sources` (and probabilities when asked), in input order, at its own size. */
export async function* segmentAll(
  session: ImageModelSession<ImageInput>,
  sources: ImageSources,
  o: PipelineOptions & SegmentOptions = {},
): AsyncGenerator<SegmentResult> {
  const exact = { ...o, decode: 'exact' } as const;
  yield* pipelineResults(session, sources, segmentTask, o, nodeRun(session, sources, exact));
}
