import { type Engine, type ModelBytes, MobileNetError, isWeightsName, quotePath } from '@mobilenet/core';
import { type NodeEngineSession, backends } from './backends.js';
import { FILE_CAPS, FileError, readRegular } from './files.js';
import { loadPretrained } from './hub/index.js';
import { type ImageInput, decodeImage, imageName } from './image.js';
import type { NodeSessionOptions } from './options.js';

/** The I/O part of loading a model in Node: a file path, through the guarded reader (regular files, 1 GiB). */
async function readModelFile(path: string): Promise<ModelBytes> {
  try {
    return { bytes: await readRegular(path, { what: 'an .onnx file', maxBytes: FILE_CAPS.model }), name: path };
  } catch (e) {
    if (!(e instanceof FileError)) throw e;
    throw new MobileNetError('model-file', `model file ${quotePath(path)}`, 'a readable .onnx file', e.detail);
  }
}

/** onnxruntime-node as an engine of the shared API. */
export const engine: Engine<ImageInput, string, NodeSessionOptions, NodeEngineSession> = {
  backends,
  defaultBackend: 'cpu',
  maxBatch: 16,
  read: readModelFile,
  images: (o) => ({ name: imageName, decode: (image, name) => decodeImage(image, name, o) }),
  pretrained: { is: isWeightsName, load: (name, o) => loadPretrained(name, { batch: 'dynamic' }, o.hub) },
};
