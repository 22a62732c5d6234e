import './ort-env.js';
import {
  type ClassifyResult,
  type DetectOptions,
  type DetectResult,
  type EmbedResult,
  type SegmentOptions,
  type SegmentResult,
  type ImageModelSession,
  type ModelInput,
  openSession,
} from '@mobilenet/core';
import type * as ort from 'onnxruntime-node';
import { engine } from './engine.js';
import type { ImageInput } from './image.js';
import { int8KernelsHere } from './int8-kernels.js';
import type { NodeSessionOptions } from './options.js';
import { type ImageSources, type PipelineOptions, classifyAll, detectAll, embedAll, segmentAll } from './pipeline.js';

export type { NodeSessionOptions } from './options.js';

/**
 * A model for `createSession`: a core model, ONNX bytes, the path of an .onnx file, or a pretrained name
 * ('torchvision:mobilenet_v3_large', 'hf-hub:timm/mobilenetv4_conv_small.e2400_r224_in1k'), built here with its
 * weights, preprocessing and labels.
 */
export type ModelSource = ModelInput<string>;

/**
 * Creates a session for a MobileNet: reads the model's preprocessing and labels from its metadata (or uses
 * torchvision's for a foreign model), checks the input is [N, 3, H, H], and starts the backend.
 */
export async function createSession(source: ModelSource, options: NodeSessionOptions = {}): Promise<NodeSession> {
  const { session, engineSession } = await openSession(engine, source, options);
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
    detectAll: (sources: ImageSources, o?: PipelineOptions & DetectOptions) =>
      detectAll(node, sources, { ...defaults, ...o }),
    segmentAll: (sources: ImageSources, o?: PipelineOptions & SegmentOptions) =>
      segmentAll(node, sources, { ...defaults, ...o }),
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
  /** Detections of a whole collection, in input order, in each image's pixels (a detector: ssdlite320-v3-large). */
  detectAll(sources: ImageSources, options?: PipelineOptions & DetectOptions): AsyncGenerator<DetectResult>;
  /** Class maps of a whole collection, in input order, at each image's size (lraspp-v3-large, deeplabv3-v3-large). */
  segmentAll(sources: ImageSources, options?: PipelineOptions & SegmentOptions): AsyncGenerator<SegmentResult>;
};
