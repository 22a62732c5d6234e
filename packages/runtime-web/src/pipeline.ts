import {
  BatchSizer,
  type ClassifyResult,
  MobileNetError,
  type PipelineDecoder,
  type Preprocessing,
  type PreparedImage,
  classifyTask,
  pipelineResults,
  preprocess,
} from '@mobilenet/core';
import { type WebDecodeMode, decodeWebFor } from './decode-fast.js';
import { DecodeWorkers } from './decode-workers.js';
import { type WebImage, webImageName } from './image.js';
import type { WebSession } from './session.js';

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
      return { name, tensor: preprocess(await decodeWebFor(image, name, pre, mode), pre, new Float32Array(n)) };
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
  session: WebSession,
  sources: WebImageSources,
  o: WebPipelineOptions = {},
): AsyncGenerator<ClassifyResult> {
  const size = session.fixedBatch ?? o.batch ?? 8;
  const decoder = () => canvasDecoder(session.info.preprocessing, checkOptions(o), o.workers ?? 0);
  const plan = { sizer: new BatchSizer(session.fixedBatch, size, size), ahead: (n: number) => 2 * n };
  yield* pipelineResults(session, sources, classifyTask, o, { decoder, plan });
}
