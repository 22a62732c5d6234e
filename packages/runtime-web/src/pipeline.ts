import { type ClassifyResult, MobileNetError, type Preprocessing, preprocess, softmax, topK } from '@mobilenet/core';
import { type WebDecodeMode, decodeWebFor } from './decode-fast.js';
import type { DecodeReply, DecodeRequest } from './decode-worker.js';
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

type Prepared = { name: string; tensor: Float32Array } | { name: string; error: string };

function positive(key: string, v: number | undefined, zero = false): void {
  if (v !== undefined && (!Number.isInteger(v) || v < (zero ? 0 : 1)))
    throw new MobileNetError('option', `option ${key}`, `a${zero ? ' non-negative' : ' positive'} integer`, String(v));
}

/** Workers answering requests by id; a worker that fails to load fails every image it holds, by name. */
class DecodeWorkers {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { name: string; done: (p: Prepared) => void; worker: number }>();
  private readonly load: number[];
  private nextId = 0;

  constructor(count: number) {
    // OffscreenCanvas too: what the worker decodes with (in Node, onnxruntime-web's threads define a Worker global).
    if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined')
      throw new MobileNetError('option', 'option workers', '0 here (no Web Worker outside a page)', String(count));
    this.workers = Array.from({ length: count }, (_, w) => {
      const worker = new Worker(new URL('./decode-worker.js', import.meta.url), { type: 'module' });
      worker.onmessage = (e: MessageEvent<DecodeReply>) => this.answer(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        this.failWorker(w, `the decode worker failed: ${e.message || 'its script did not load'}`);
      };
      return worker;
    });
    this.load = this.workers.map(() => 0);
  }

  prepare(image: Blob, name: string, pre: Preprocessing, mode: WebDecodeMode): Promise<Prepared> {
    const worker = this.load.indexOf(Math.min(...this.load));
    const id = this.nextId++;
    this.load[worker]!++;
    return new Promise((done) => {
      this.pending.set(id, { name, done, worker });
      const request: DecodeRequest = { id, image, name, pre, mode };
      this.workers[worker]!.postMessage(request);
    });
  }

  private answer(reply: DecodeReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    this.load[p.worker]!--;
    p.done('tensor' in reply ? { name: p.name, tensor: reply.tensor } : { name: p.name, error: reply.error });
  }

  private failWorker(worker: number, why: string): void {
    for (const [id, p] of this.pending) if (p.worker === worker) this.answer({ id, error: `${p.name}: ${why}` });
  }

  terminate(): void {
    for (const w of this.workers) w.terminate();
    for (const [id, p] of this.pending) this.answer({ id, error: `${p.name}: stopped before it was decoded` });
  }
}

/**
 * Top-k classes for each image, in input order, as an async iterator: the page's counterpart of runtime-node's
 * `classifyAll`. The next batch's images decode while the model runs the current one (at most two batches ahead,
 * so memory stays flat over any number of images); an image that fails yields its error, named, and the rest go on.
 */
export async function* classifyAll(
  session: WebSession,
  sources: WebImageSources,
  o: WebPipelineOptions = {},
): AsyncGenerator<ClassifyResult> {
  positive('batch', o.batch);
  positive('topK', o.topK);
  positive('workers', o.workers, true);
  const mode = o.decode ?? 'exact';
  if (mode !== 'exact' && mode !== 'resize-on-decode')
    throw new MobileNetError('option', 'option decode', "'exact' or 'resize-on-decode'", String(mode));
  const k = o.topK ?? 5;
  const pre = session.info.preprocessing;
  const n = 3 * pre.size * pre.size;
  const size = session.fixedBatch ?? o.batch ?? 8;
  const workers = o.workers ? new DecodeWorkers(o.workers) : null;

  const prepare = async (image: WebImage, index: number): Promise<Prepared> => {
    const name = webImageName(image, index);
    if (workers && image instanceof Blob) return workers.prepare(image, name, pre, mode);
    try {
      return { name, tensor: preprocess(await decodeWebFor(image, name, pre, mode), pre, new Float32Array(n)) };
    } catch (e) {
      return { name, error: (e as Error).message };
    }
  };
  const iterator =
    Symbol.asyncIterator in sources
      ? sources[Symbol.asyncIterator]()
      : (sources as Iterable<WebImage>)[Symbol.iterator]();
  const queue: Promise<Prepared>[] = [];
  let index = 0;
  let exhausted = false;
  const refill = async () => {
    while (!exhausted && queue.length < 2 * size) {
      const next = await iterator.next();
      if (next.done) exhausted = true;
      else queue.push(prepare(next.value, index++));
    }
  };
  const input = new Float32Array(size * n);
  try {
    while (true) {
      const items: Prepared[] = [];
      let good = 0;
      while (good < size) {
        await refill();
        const next = queue.shift();
        if (!next) break;
        const p = await next;
        items.push(p);
        if ('tensor' in p) input.set(p.tensor, good++ * n);
      }
      if (items.length === 0) return;
      await refill(); // the next batch decodes while this one runs
      const batch = session.fixedBatch ?? good;
      if (batch > good) input.fill(0, good * n, batch * n);
      const out = good > 0 ? await session.logits(input.subarray(0, batch * n), batch) : null;
      const width = out ? out.length / batch : 0;
      let j = 0;
      for (const p of items) {
        if ('error' in p) yield { image: p.name, ok: false, error: p.error };
        else {
          const row = out!.subarray(j * width, ++j * width);
          yield { image: p.name, ok: true, top: topK(softmax(row), k, session.info.labels) };
        }
      }
    }
  } finally {
    workers?.terminate();
    queue.length = 0;
  }
}
