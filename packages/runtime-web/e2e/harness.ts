// The page runtime-web's browser tests and measurements drive: window.harness decodes JPEGs through the
// createImageBitmap/OffscreenCanvas paths, preprocesses, classifies, and times a folder's worth of images with the
// decoding on this thread or on a worker.
/// <reference types="vite/client" />
import { type Arch, type DenseArch, type Preprocessing, buildModel, fanInFill, preprocess } from '@mobilenet/core';
import {
  type WebDecodeMode,
  type WebSession,
  classifyAll,
  createSession,
  decodeWebFor,
  detectAll,
  segmentAll,
} from '@mobilenet/runtime-web';
import wasmMjs from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import wasmWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

/** An image as the test sends it: a name and its file's bytes in base64. */
export interface SentImage {
  readonly name: string;
  readonly base64: string;
}

export interface ModelChoice {
  readonly arch: Arch | DenseArch;
  readonly resolution: number;
  readonly width?: number;
  readonly seed: number;
  readonly threads: number;
}

const blobOf = (img: SentImage): File => {
  const bin = atob(img.base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new File([bytes], img.name, { type: 'image/jpeg' });
};

const base64Of = (a: Float32Array): string => {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};

let current: { key: string; session: WebSession } | null = null;

async function sessionFor(c: ModelChoice): Promise<WebSession> {
  const key = JSON.stringify(c);
  if (current?.key === key) return current.session;
  await current?.session.release();
  const model = buildModel({
    arch: c.arch,
    resolution: c.resolution,
    width: c.width ?? 1,
    convention: 'torchvision',
    weights: fanInFill(c.seed),
    batch: 'dynamic',
  });
  const session = await createSession(model, {
    backend: 'wasm',
    threads: c.threads,
    wasmPaths: { wasm: { mjs: wasmMjs, wasm: wasmWasm } },
  });
  current = { key, session };
  return session;
}

const harness = {
  /** Decodes each image in `mode` and preprocesses it for `pre`: the decoded size and the tensor (base64 float32). */
  async tensors(images: SentImage[], pre: Preprocessing, mode: WebDecodeMode) {
    const out = [];
    for (const sent of images) {
      const img = await decodeWebFor(blobOf(sent), sent.name, pre, mode);
      out.push({ name: sent.name, width: img.width, height: img.height, tensor: base64Of(preprocess(img, pre)) });
    }
    return out;
  },

  /** Top-5 of each image through classifyAll (decoding in `mode`, on a worker or not), and the model's preprocessing. */
  async classify(images: SentImage[], c: ModelChoice, mode: WebDecodeMode, workers: number) {
    const session = await sessionFor(c);
    const results = [];
    for await (const r of classifyAll(session, images.map(blobOf), { decode: mode, workers, topK: 5 })) results.push(r);
    return { results, threads: session.wasm.threads, pre: session.info.preprocessing };
  },

  /**
   * Where a page's time goes per image, exact path: createImageBitmap (Chromium decodes a Blob off the page's
   * thread), drawing it and reading the pixels back (on the page's thread), and preprocess (on the page's thread).
   * Medians in ms.
   */
  async stages(images: SentImage[], pre: Preprocessing) {
    const ms = { decode: [] as number[], readback: [] as number[], preprocess: [] as number[] };
    for (const sent of images) {
      const t0 = performance.now();
      const bitmap = await createImageBitmap(blobOf(sent));
      const t1 = performance.now();
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(bitmap, 0, 0);
      const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const t2 = performance.now();
      preprocess({ data, width: bitmap.width, height: bitmap.height, channels: 4 }, pre);
      const t3 = performance.now();
      bitmap.close();
      ms.decode.push(t1 - t0);
      ms.readback.push(t2 - t1);
      ms.preprocess.push(t3 - t2);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    return { decode: median(ms.decode), readback: median(ms.readback), preprocess: median(ms.preprocess) };
  },

  /**
   * Images/s over `rounds` passes of `images`, three ways: the model alone on tensors made once; classifyAll with
   * decoding on this thread; classifyAll with decoding on a worker. The passes alternate (paired, interleaved), as
   * the machine is shared.
   */
  async throughput(images: SentImage[], c: ModelChoice, mode: WebDecodeMode, batch: number, rounds: number) {
    const session = await sessionFor(c);
    const pre = session.info.preprocessing;
    const n = 3 * pre.size * pre.size;
    const blobs = images.map(blobOf);
    const input = new Float32Array(batch * n);
    for (let i = 0; i < batch; i++)
      preprocess(await decodeWebFor(blobs[i % blobs.length]!, 'x', pre, mode), pre, input.subarray(i * n, (i + 1) * n));
    const modelOnly = async () => {
      const t0 = performance.now();
      for (let i = 0; i < blobs.length; i += batch) await session.logits(input, batch);
      return performance.now() - t0;
    };
    const pipeline = (workers: number) => async () => {
      const t0 = performance.now();
      let count = 0;
      for await (const r of classifyAll(session, blobs, { decode: mode, workers, batch })) count += r.ok ? 1 : 0;
      if (count !== blobs.length) throw new Error(`only ${count} of ${blobs.length} images classified`);
      return performance.now() - t0;
    };
    const ways = { model: modelOnly, main: pipeline(0), worker: pipeline(1) };
    const ms: Record<keyof typeof ways, number[]> = { model: [], main: [], worker: [] };
    await ways.main(); // warm-up: the worker's start, the model's first runs
    await ways.worker();
    for (let r = 0; r < rounds; r++)
      for (const k of Object.keys(ways) as (keyof typeof ways)[]) ms[k].push(await ways[k]());
    return { threads: session.wasm.threads, images: blobs.length, ms };
  },
};

/** Decoded pixels as the test sends them (sharp's, so both runtimes see the same ones). */
export interface SentPixels {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly base64: string;
}

/** Module workers the page started whose script is the dense postprocessing's (to see the work left this thread). */
let postprocessWorkers = 0;
const PageWorker = window.Worker;
window.Worker = class extends PageWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    super(url, options);
    if (String(url).includes('postprocess-worker')) postprocessWorkers++;
  }
};

const denseHarness = {
  /**
   * A seeded detector or segmenter (built in the page) on `images`: detectAll's boxes, or segmentAll's class maps
   * (Uint16, base64), with the postprocessing on a worker as a page does it; and how many such workers started.
   */
  async dense(images: SentPixels[], c: ModelChoice, task: 'detect' | 'segment', options: object) {
    const model = buildModel({ arch: c.arch, resolution: c.resolution, weights: fanInFill(c.seed), batch: 'dynamic' });
    const session = await createSession(model, {
      backend: 'wasm',
      threads: c.threads,
      wasmPaths: { wasm: { mjs: wasmMjs, wasm: wasmWasm } },
    });
    const pixels = images.map((i) => {
      const bin = atob(i.base64);
      const data = new Uint8Array(bin.length);
      for (let k = 0; k < bin.length; k++) data[k] = bin.charCodeAt(k);
      return { name: i.name, data, width: i.width, height: i.height, channels: 3 as const };
    });
    const before = postprocessWorkers;
    const results: unknown[] = [];
    try {
      if (task === 'detect') for await (const r of detectAll(session, pixels, options)) results.push(r);
      else
        for await (const r of segmentAll(session, pixels, options))
          results.push(
            r.ok
              ? {
                  image: r.image,
                  width: r.mask.width,
                  height: r.mask.height,
                  classes: base64Of(new Float32Array(Float32Array.from(r.mask.classes))),
                }
              : r,
          );
    } finally {
      await session.release();
    }
    return { results, workers: postprocessWorkers - before };
  },
};

(window as unknown as { harness: typeof harness & typeof denseHarness }).harness = { ...harness, ...denseHarness };
document.body.dataset.ready = 'true';
