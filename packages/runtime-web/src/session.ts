import {
  type Engine,
  type ModelBytes,
  type ModelInput,
  type ImageModelSession,
  MobileNetError,
  openSession,
} from '@mobilenet/core';
import type { InferenceSession } from 'onnxruntime-web';
import { type WebEngineSession, backends } from './backends.js';
import { type WebImage, decodeWebImage, webImageName } from './image.js';
import type { WebSessionOptions } from './options.js';
import { type WasmThreads, allowedThreads, threadsInEffect } from './ort.js';
import { isPretrainedName, loadPretrained } from './pretrained.js';

export type { WebSessionOptions } from './options.js';

/**
 * A model for the browser runtime: a core model (built in the page), ONNX bytes, a URL, a File/Blob, or a
 * pretrained name ('torchvision:mobilenet_v3_large', 'hf-hub:timm/...'), built in the page with its weights.
 */
export type WebModelSource = ModelInput<string | Blob>;

/** The I/O part of loading a model in a page: a URL, or a File/Blob. */
async function readModel(source: string | Blob): Promise<ModelBytes> {
  if (typeof source === 'string') {
    const res = await fetch(source);
    if (!res.ok) throw new MobileNetError('model-file', `model URL '${source}'`, 'an .onnx file', `HTTP ${res.status}`);
    return { bytes: new Uint8Array(await res.arrayBuffer()), name: source };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { bytes: new Uint8Array(await source.arrayBuffer()), name: (source as File).name ?? 'model file' };
  }
  throw new MobileNetError(
    'model',
    'model',
    'a core model, ONNX bytes, a URL or a File/Blob',
    Object.prototype.toString.call(source),
  );
}

/** onnxruntime-web as an engine of the shared API. */
const engine: Engine<WebImage, string | Blob, WebSessionOptions, WebEngineSession> = {
  backends,
  defaultBackend: 'wasm',
  maxBatch: 8,
  read: readModel,
  images: () => ({ name: webImageName, decode: decodeWebImage }),
  pretrained: { is: isPretrainedName, load: (name, o) => loadPretrained(name, { batch: 'dynamic' }, o.hub) },
};

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
  return Object.assign(session, {
    ortSession: engineSession.session,
    wasm: threadsInEffect(engineSession.ort, options),
  });
}
