import './ort-env.js';
import { availableParallelism } from 'node:os';
import {
  type ClassifyResult,
  type EmbedResult,
  MobileNetError,
  embeddingOutput,
  escapeControls,
  nonFinite,
  preprocess,
  softmax,
  topK,
} from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { BatchSizer } from './batch-sizer.js';
import { type DecodeMode, DECODE_MODES, decodeFor } from './decode-fast.js';
import { type ImageInput, imageName } from './image.js';
import type { NodeSession } from './session.js';

export interface PipelineOptions {
  /** Images per model run. Default: chosen by timing the model on the first batches (up to `maxBatch`). */
  readonly batch?: number;
  /** Largest automatic batch. Default 16. */
  readonly maxBatch?: number;
  /** Images decoding at once (each on libvips' threads). Default: twice the number of CPUs, at least 4. */
  readonly decoders?: number;
  /** 'exact' (default) or 'shrink-on-load' for large JPEGs: see DecodeMode. */
  readonly decode?: DecodeMode;
  /** Largest width x height decoded; a bigger image is reported by name. Default DEFAULT_MAX_PIXELS (100 M). */
  readonly maxPixels?: number;
  /** Classes per image for classifyAll. Default 5. */
  readonly topK?: number;
  /** Called after each model run with the time each stage took, for progress and profiles. */
  readonly onBatch?: (stats: BatchStats) => void;
  /** classifyAll: called with each image's raw logits before softmax (e.g. to check they carry a signal). */
  readonly onLogits?: (image: string, logits: Float32Array) => void;
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
}

export type ImageSources = Iterable<ImageInput> | AsyncIterable<ImageInput>;

type Prepared =
  | { name: string; tensor: Float32Array<ArrayBuffer>; decodeMs: number; preprocessMs: number }
  | { name: string; error: string };

/** Counts slots; `acquire` waits while all are taken. Bounds the decoded pixels held at once. */
class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) return void this.free--;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

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

/**
 * Images in, one row of `output` per image out, in input order. Decoding runs ahead on libvips' threads while the
 * model runs; at most `decoders` images are decoded at once and at most two batches of tensors wait, so memory
 * stays flat however many images come. A bad image yields its error, named, and the rest go on.
 */
async function* rows(
  session: NodeSession,
  sources: ImageSources,
  output: string,
  o: PipelineOptions,
): AsyncGenerator<{ name: string; row: Float32Array } | { name: string; error: string }> {
  checkOptions(o);
  if (typeof sources === 'string' || sources instanceof Uint8Array) {
    throw new MobileNetError(
      'option',
      'sources',
      'an iterable of images (e.g. an array of paths)',
      typeof sources === 'string' ? `the string '${sources}'` : 'one Uint8Array',
    );
  }
  const { preprocessing: pre, inputName, inputSize: s } = session.info;
  const n = 3 * s * s;
  const maxBatch = session.fixedBatch ?? o.batch ?? o.maxBatch ?? 16;
  const sizer = new BatchSizer(session.fixedBatch, o.batch, maxBatch);
  // Each decode crosses this thread a few times (read, header, pixels), and a model run blocks it: enough decodes in
  // flight keep the libvips threads busy through a run (measured: the model waited half as long with 8 as with 2).
  const decoders = o.decoders ?? Math.max(4, 2 * availableParallelism());
  const slots = new Slots(decoders);
  const mode = o.decode ?? 'exact';
  const pool: Float32Array<ArrayBuffer>[] = [];
  const input = new Float32Array(maxBatch * n);

  const prepare = async (source: ImageInput, index: number): Promise<Prepared> => {
    const name = imageName(source, index);
    await slots.acquire();
    try {
      const t0 = performance.now();
      const img = await decodeFor(source, name, pre, mode, o.maxPixels === undefined ? {} : { maxPixels: o.maxPixels });
      const t1 = performance.now();
      const tensor = pool.pop() ?? new Float32Array(n);
      preprocess(img, pre, tensor);
      return { name, tensor, decodeMs: t1 - t0, preprocessMs: performance.now() - t1 };
    } catch (e) {
      return { name, error: (e as Error).message };
    } finally {
      slots.release();
    }
  };

  const iterator =
    Symbol.asyncIterator in sources
      ? sources[Symbol.asyncIterator]()
      : (sources as Iterable<ImageInput>)[Symbol.iterator]();
  const queue: Promise<Prepared>[] = [];
  let index = 0;
  let exhausted = false;
  // Keeps `ahead` images in flight: enough to fill the next batch while the current one runs, and no more.
  const refill = async (ahead: number) => {
    while (!exhausted && queue.length < ahead) {
      const next = await iterator.next();
      if (next.done) exhausted = true;
      else queue.push(prepare(next.value, index++));
    }
  };

  try {
    while (true) {
      const size = sizer.next;
      const ahead = 2 * size + decoders;
      const t0 = performance.now();
      const items: Prepared[] = [];
      let good = 0;
      while (good < size) {
        await refill(ahead);
        const next = queue.shift();
        if (!next) break;
        const p = await next;
        items.push(p);
        if ('tensor' in p) good++;
      }
      if (items.length === 0) return;
      await refill(ahead); // start the next batch's decodes before the run blocks this thread
      const t1 = performance.now();
      let decodeMs = 0;
      let preprocessMs = 0;
      const batch = session.fixedBatch ?? good;
      let out: Float32Array | null = null;
      let t2 = t1;
      if (good > 0) {
        let j = 0;
        for (const p of items) {
          if (!('tensor' in p)) continue;
          input.set(p.tensor, j++ * n);
          decodeMs += p.decodeMs;
          preprocessMs += p.preprocessMs;
          pool.push(p.tensor);
        }
        if (batch > good) input.fill(0, good * n, batch * n);
        out = await run(session, input.subarray(0, batch * n), [batch, 3, s, s], inputName, output);
        t2 = performance.now();
        sizer.record(good, t2 - t1);
      }
      const width = out ? out.length / batch : 0;
      let j = 0;
      for (const p of items) {
        if ('tensor' in p) {
          const row = out!.slice(j * width, (j + 1) * width);
          j++;
          const bad = nonFinite(row, output);
          yield bad ? { name: p.name, error: `${escapeControls(p.name)}: ${bad}` } : { name: p.name, row };
        } else yield { name: p.name, error: p.error };
      }
      o.onBatch?.({
        images: items.length,
        failed: items.length - good,
        batch,
        waitMs: t1 - t0,
        runMs: t2 - t1,
        postMs: performance.now() - t2,
        decodeMs,
        preprocessMs,
      });
    }
  } finally {
    // An early `break` by the caller: let in-flight decodes finish quietly (prepare never rejects).
    queue.length = 0;
  }
}

async function run(
  session: NodeSession,
  data: Float32Array,
  dims: number[],
  inputName: string,
  output: string,
): Promise<Float32Array> {
  const tensor = new ort.Tensor('float32', data, dims);
  try {
    const result = (await session.ortSession.run({ [inputName]: tensor }, [output]))[output]!;
    const values = result.data as Float32Array;
    result.dispose();
    return values;
  } finally {
    tensor.dispose();
  }
}

/** Top-k classes for each image of `sources`, in input order, as an async iterator. */
export async function* classifyAll(
  session: NodeSession,
  sources: ImageSources,
  o: PipelineOptions = {},
): AsyncGenerator<ClassifyResult> {
  const k = o.topK ?? 5;
  for await (const r of rows(session, sources, session.info.outputName, o)) {
    if ('row' in r) o.onLogits?.(r.name, r.row);
    yield 'row' in r
      ? { image: r.name, ok: true, top: topK(softmax(r.row), k, session.info.labels) }
      : { image: r.name, ok: false, error: r.error };
  }
}

/** The embedding of each image of `sources`, in input order, as an async iterator. */
export async function* embedAll(
  session: NodeSession,
  sources: ImageSources,
  o: PipelineOptions = {},
): AsyncGenerator<EmbedResult> {
  const name = embeddingOutput(session.info);
  for await (const r of rows(session, sources, name, o)) {
    yield 'row' in r ? { image: r.name, ok: true, embedding: r.row } : { image: r.name, ok: false, error: r.error };
  }
}
