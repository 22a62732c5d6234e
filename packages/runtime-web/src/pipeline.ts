import {
  BatchSizer,
  type ImageModelSession,
  type ClassifyResult,
  MobileNetError,
  type PipelineDecoder,
  type Preprocessing,
  type PreparedImage,
  classifyTask,
  type DetectOptions,
  type DetectResult,
  detectTask,
  pipelineResults,
  type SegmentOptions,
  type SegmentResult,
  segmentTask,
  type Task,
  preprocess,
} from '@mobilenet/core';
import { type WebDecodeMode, decodeWebFor } from './decode-fast.js';
import { DecodeWorkers } from './decode-workers.js';
import { type WebImage, webImageName } from './image.js';
import { PostprocessWorker, canPostprocessOffThread, detectOn, segmentOn } from './postprocess-workers.js';

export interface WebPipelineOptions {
  /** Images per model run. Default: the model's fixed batch, else 8. */
  readonly batch?: number;
  /** 'exact' (default, torchvision's resize) or 'resize-on-decode' (the browser scales large photos): see WebDecodeMode. */
  readonly decode?: WebDecodeMode;
  /**
   * Web Workers that decode and preprocess Blob/File images while the model runs (other image kinds are decoded
   * on this thread). Default 0: all on this thread, which still overlaps createImageBitmap's decoding with the
   * model. Measured in docs/web.md.
   */
  readonly workers?: number;
  /** Classes per image. Default 5. */
  readonly topK?: number;
  /**
   * detectAll / segmentAll: run the postprocessing (SSD's decode and NMS, the mask's resize) on a Web Worker, off
   * the page's main thread. Default: true in a page, false where there are no workers (Node).
   */
  readonly postprocessWorker?: boolean;
}

export type WebImageSources = Iterable<WebImage> | AsyncIterable<WebImage>;

function positive(key: string, v: number | undefined, zero = false): void {
  if (v !== undefined && (!Number.isInteger(v) || v < (zero ? 0 : 1)))
    throw new MobileNetError('option', `option ${key}`, `a${zero ? ' non-negative' : ' positive'} integer`, String(v));
}

function checkOptions(o: WebPipelineOptions): WebDecodeMode {
  positive('batch', o.batch);
  positive('topK', o.topK);
  positive('workers', o.workers, true);
  const mode = o.decode ?? 'exact';
  if (mode !== 'exact' && mode !== 'resize-on-decode')
    throw new MobileNetError('option', 'option decode', "'exact' or 'resize-on-decode'", String(mode));
  return mode;
}

/** The page's decoder: Blobs on the workers when there are some, everything else (and all without) on this thread. */
function canvasDecoder(pre: Preprocessing, mode: WebDecodeMode, workerCount: number): PipelineDecoder<WebImage> {
  const workers = workerCount ? new DecodeWorkers(workerCount) : null;
  const n = 3 * pre.size * pre.size;
  const prepare = async (image: WebImage, index: number): Promise<PreparedImage> => {
    const name = webImageName(image, index);
    if (workers && image instanceof Blob) return workers.prepare(image, name, pre, mode);
    try {
      const rgb = await decodeWebFor(image, name, pre, mode);
      return { name, tensor: preprocess(rgb, pre, new Float32Array(n)), width: rgb.width, height: rgb.height };
    } catch (e) {
      return { name, error: (e as Error).message };
    }
  };
  return { prepare, ...(workers && { close: () => workers.terminate() }) };
}

/**
 * Top-k classes for each image, in input order, as an async iterator: the page's counterpart of runtime-node's
 * `classifyAll`, on the same pipeline (core's `pipelineResults`). The next batch's images decode while the model
 * runs the current one (at most two batches ahead, so memory stays flat over any number of images); an image that
 * fails yields its error, named, and the rest go on.
 */
export async function* classifyAll(
  session: ImageModelSession<WebImage>,
  sources: WebImageSources,
  o: WebPipelineOptions = {},
): AsyncGenerator<ClassifyResult> {
  const size = session.fixedBatch ?? o.batch ?? 8;
  const decoder = () => canvasDecoder(session.info.preprocessing, checkOptions(o), o.workers ?? 0);
  const plan = { sizer: new BatchSizer(session.fixedBatch, size, size), ahead: (n: number) => 2 * n };
  yield* pipelineResults(session, sources, classifyTask, o, { decoder, plan });
}

/**
 * A dense task over `sources` with its postprocessing on a worker when asked (and possible), the worker stopped
 * when the stream ends or the caller breaks off. Images decode exactly: boxes and masks are in their own pixels.
 */
async function* dense<O extends object, F>(
  session: ImageModelSession<WebImage>,
  sources: WebImageSources,
  o: WebPipelineOptions & O,
  local: Task<O, F>,
  onWorker: (w: PostprocessWorker) => Task<O, F>,
) {
  if (o.postprocessWorker !== undefined && typeof o.postprocessWorker !== 'boolean')
    throw new MobileNetError('option', 'option postprocessWorker', 'true or false', String(o.postprocessWorker));
  const off = o.postprocessWorker ?? canPostprocessOffThread();
  const worker = off ? new PostprocessWorker() : null;
  const size = session.fixedBatch ?? o.batch ?? 8;
  const exact = { ...o, decode: 'exact' as const };
  const decoder = () => canvasDecoder(session.info.preprocessing, checkOptions(exact), o.workers ?? 0);
  const plan = { sizer: new BatchSizer(session.fixedBatch, size, size), ahead: (n: number) => 2 * n };
  try {
    yield* pipelineResults(session, sources, worker ? onWorker(worker) : local, o, { decoder, plan });
  } finally {
    worker?.terminate();
  }
}

/** SSD's detections for each image, in input order, in its own pixels (postprocessing on a worker in a page). */
export function detectAll(
  session: ImageModelSession<WebImage>,
  sources: WebImageSources,
  o: WebPipelineOptions & DetectOptions = {},
): AsyncGenerator<DetectResult> {
  return dense(session, sources, o, detectTask, detectOn);
}

/** A class per pixel of each image (and probabilities when asked), in input order, at its own size. */
export function segmentAll(
  session: ImageModelSession<WebImage>,
  sources: WebImageSources,
  o: WebPipelineOptions & SegmentOptions = {},
): AsyncGenerator<SegmentResult> {
  return dense(session, sources, o, segmentTask, segmentOn);
}
