import { type Engine, type ModelBytes, MobileNetError } from '@mobilenet/core';
import { type WebEngineSession, backends } from './backends.js';
import { type WebImage, decodeWebImage, webImageName } from './image.js';
import type { WebSessionOptions } from './options.js';
import { isPretrainedName, loadPretrained } from './pretrained.js';

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
export const engine: Engine<WebImage, string | Blob, WebSessionOptions, WebEngineSession> = {
  backends,
  defaultBackend: 'wasm',
  maxBatch: 8,
  read: readModel,
  images: () => ({ name: webImageName, decode: decodeWebImage }),
  pretrained: { is: isPretrainedName, load: (name, o) => loadPretrained(name, { batch: 'dynamic' }, o.hub) },
};
