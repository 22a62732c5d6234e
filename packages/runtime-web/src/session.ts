import {
  type DetectOptions,
  type ImageModelSession,
  type ModelInput,
  openSession,
  type SegmentOptions,
} from '@mobilenet/core';
import type { InferenceSession } from 'onnxruntime-web';
import { engine } from './engine.js';
import type { WebImage } from './image.js';
import type { WebSessionOptions } from './options.js';
import { type WasmThreads, allowedThreads, threadsInEffect } from './ort.js';
import { detectAll, segmentAll } from './pipeline.js';

export type { WebSessionOptions } from './options.js';

/**
 * A model for the browser runtime: a core model (built in the page), ONNX bytes, a URL, a File/Blob, or a
 * pretrained name ('torchvision:mobilenet_v3_large', 'hf-hub:timm/...'), built in the page with its weights.
 */
export type WebModelSource = ModelInput<string | Blob>;

/** A session on onnxruntime-web. */
export type WebSession = ImageModelSession<WebImage> & {
  readonly ortSession: InferenceSession;
  /** WASM threads in effect (onnxruntime-web fixes them at a page's first session), and why that many. */
  readonly wasm: WasmThreads;
};

/** Creates a session in the browser (or in Node, WASM only, for tests): same API as @mobilenet/runtime-node. */
export async function createSession(source: WebModelSource, options: WebSessionOptions = {}): Promise<WebSession> {
  allowedThreads(options); // checks threads / wasmThreads before anything loads
  const { session, engineSession } = await openSession(engine, source, options);
  const web: WebSession = Object.assign(session, {
    ortSession: engineSession.session,
    wasm: threadsInEffect(engineSession.ort, options),
    // In a page, detect and segment postprocess on a worker (the pipeline's), not on the main thread.
    detect: (images: readonly WebImage[], o: DetectOptions = {}) => collect(detectAll(web, images, o)),
    segment: (images: readonly WebImage[], o: SegmentOptions = {}) => collect(segmentAll(web, images, o)),
  });
  return web;
}

async function collect<T>(results: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of results) out.push(r);
  return out;
}
