import './ort-env.js';
import {
  type ClassifyResult,
  type EmbedResult,
  type Engine,
  type ModelBytes,
  type ModelInput,
  type SessionOptions,
  type ImageModelSession,
  MobileNetError,
  isWeightsName,
  openSession,
  quotePath,
} from '@mobilenet/core';
import { type HubOptions, loadPretrained } from './hub/index.js';
import type * as ort from 'onnxruntime-node';
import { type NodeEngineSession, backends } from './backends.js';
import { FILE_CAPS, FileError, readRegular } from './files.js';
import { type ImageInput, decodeImage, imageName } from './image.js';
import { int8KernelsHere } from './int8-kernels.js';
import { type ImageSources, type PipelineOptions, classifyAll, embedAll } from './pipeline.js';

export interface NodeSessionOptions extends SessionOptions {
  /** onnxruntime's intra-op thread spinning: lower latency alone, but steals CPU from other sessions. Default on. */
  readonly spinning?: boolean;
  /** Largest batch run at once for models with a dynamic batch. Default 16. */
  readonly maxBatch?: number;
  /** Largest image decoded, in pixels (width x height); also the budget of pixels decoded at once. Default 100 M. */
  readonly maxPixels?: number;
  /** For a pretrained name: offline mode, caches, endpoints, progress (default: the environment's). */
  readonly hub?: HubOptions;
}

/**
 * A model for `createSession`: a core model, ONNX bytes, the path of an .onnx file, or a pretrained name
 * ('torchvision:mobilenet_v3_large', 'hf-hub:timm/mobilenetv4_conv_small.e2400_r224_in1k'), built here with its
 * weights, preprocessing and labels.
 */
export type ModelSource = ModelInput<string>;

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
const engine: Engine<ImageInput, string, NodeSessionOptions, NodeEngineSession> = {
  backends,
  defaultBackend: 'cpu',
  maxBatch: 16,
  read: readModelFile,
  images: (o) => ({ name: imageName, decode: (image, name) => decodeImage(image, name, o) }),
};

/**
 * Creates a session for a MobileNet: reads the model's preprocessing and labels from its metadata (or uses
 * torchvision's for a foreign model), checks the input is [N, 3, H, H], and starts the backend.
 */
export async function createSession(source: ModelSource, options: NodeSessionOptions = {}): Promise<NodeSession> {
  const model =
    typeof source === 'string' && isWeightsName(source)
      ? await loadPretrained(source, { batch: 'dynamic' }, options.hub)
      : source;
  const { session, engineSession } = await openSession(engine, model, options);
  // The session's limits are the pipeline's defaults.
  const defaults: PipelineOptions = {
    ...(options.maxPixels && { maxPixels: options.maxPixels }),
    ...(options.maxBatch && { maxBatch: options.maxBatch }),
  };
  const node: NodeSession = Object.assign(session, {
    warnings: warningsFor(session),
    ortSession: engineSession.ort,
    classifyAll: (sources: ImageSources, o?: PipelineOptions) => classifyAll(node, sources, { ...defaults, ...o }),
    embedAll: (sources: ImageSources, o?: PipelineOptions) => embedAll(node, sources, { ...defaults, ...o }),
  });
  return node;
}

/** What a user should know before trusting this session's numbers on this machine. */
function warningsFor(session: ImageModelSession<ImageInput>): string[] {
  const kernels = int8KernelsHere();
  if (session.info.int8Target !== 'vnni' || session.backend !== 'cpu' || !kernels.saturates) return [];
  return [
    `this int8 file was quantized for VNNI CPUs (--int8-target vnni); this CPU's kernels are ${kernels.description}: ` +
      'expect 10 dB or more of extra error; export it again with --int8-target portable (the default)',
  ];
}

/** A session on onnxruntime-node: images (paths, bytes, pixels) in, classes or embeddings out. */
export type NodeSession = ImageModelSession<ImageInput> & {
  /** Warnings about running this model here (a VNNI-only int8 file on a CPU whose int8 kernels saturate). */
  readonly warnings: readonly string[];
  /** The onnxruntime-node session underneath, for what this API does not cover. */
  readonly ortSession: ort.InferenceSession;
  /** Top-k classes of a whole collection, in input order, decoding ahead while the model runs (see pipeline.ts). */
  classifyAll(sources: ImageSources, options?: PipelineOptions): AsyncGenerator<ClassifyResult>;
  /** Embeddings of a whole collection, in input order, decoding ahead while the model runs. */
  embedAll(sources: ImageSources, options?: PipelineOptions): AsyncGenerator<EmbedResult>;
};
