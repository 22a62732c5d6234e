import { readFile } from 'node:fs/promises';
import { type Graph, type BackendName, type ClassifyResult, type EmbedResult, type Engine, type EngineSession, type Model, type SessionOptions, ImageModelSession, MobileNetError, openSession, toOnnx } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { NODE_BACKENDS, backendPrecondition } from './backends.js';
import { type ImageInput, decodeImage, imageName } from './image.js';
import { type ImageSources, type PipelineOptions, classifyAll, embedAll } from './pipeline.js';

export interface NodeSessionOptions extends SessionOptions {
  /** onnxruntime's intra-op thread spinning: lower latency alone, but steals CPU from other sessions. Default on. */
  readonly spinning?: boolean;
  /** Largest batch run at once for models with a dynamic batch. Default 16. */
  readonly maxBatch?: number;
  /** Largest image decoded, in pixels (width x height); also the budget of pixels decoded at once. Default 100 M. */
  readonly maxPixels?: number;
}

/** A model for `createSession`: a core model, ONNX bytes, or the path of an .onnx file. */
export type ModelSource = Model | Uint8Array | string;

async function loadBytes(source: ModelSource): Promise<{ bytes: Uint8Array; name: string; graph?: Graph }> {
  if (typeof source === 'string') {
    try {
      return { bytes: await readFile(source), name: source };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new MobileNetError('model-file', `model file '${source}'`, 'a readable .onnx file', code === 'ENOENT' ? 'no such file' : (e as Error).message);
    }
  }
  if (source instanceof Uint8Array) return { bytes: source, name: 'model bytes' };
  return { bytes: toOnnx(source.graph), name: source.graph.name, graph: source.graph };
}

export function ortOptions(backend: BackendName, o: NodeSessionOptions): ort.InferenceSession.SessionOptions {
  // onnxruntime 1.30's WebGPU provider mis-fuses Conv -> Clip -> HardSwish at 'extended' and above; 'basic' is correct.
  const level = o.graphOptimization ?? (backend === 'webgpu' ? 'basic' : 'all');
  return {
    executionProviders: [backend],
    graphOptimizationLevel: level,
    ...(o.threads !== undefined && { intraOpNumThreads: o.threads }),
    ...(o.spinning === false && { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}

/** onnxruntime-node as an engine of the shared API. */
function engine(o: NodeSessionOptions): Engine<ImageInput, EngineSession & { ort: ort.InferenceSession }> {
  return {
    runtime: 'onnxruntime-node',
    backends: NODE_BACKENDS,
    fallbackBackend: 'cpu',
    unavailable: backendPrecondition,
    async start(bytes, backend) {
      const s = await ort.InferenceSession.create(bytes, ortOptions(backend, o));
      return {
        ort: s,
        async run(input, dims, inputName, output) {
          const tensor = new ort.Tensor('float32', input, dims);
          const out = (await s.run({ [inputName]: tensor }, [output]))[output]!;
          const data = out.data as Float32Array;
          tensor.dispose();
          out.dispose();
          return data;
        },
        release: () => s.release(),
      };
    },
    name: imageName,
    decode: (image, name) => decodeImage(image, name, o),
  };
}

/**
 * Creates a session for a MobileNet: reads the model's preprocessing and labels from its metadata (or uses
 * torchvision's for a foreign model), checks the input is [N, 3, H, H], and starts the backend.
 */
export async function createSession(source: ModelSource, options: NodeSessionOptions = {}): Promise<NodeSession> {
  const { session, engineSession } = await openSession(engine(options), await loadBytes(source), options);
  // The session's limits are the pipeline's defaults.
  const defaults: PipelineOptions = { ...(options.maxPixels && { maxPixels: options.maxPixels }), ...(options.maxBatch && { maxBatch: options.maxBatch }) };
  const node: NodeSession = Object.assign(session, {
    ortSession: engineSession.ort,
    classifyAll: (sources: ImageSources, o?: PipelineOptions) => classifyAll(node, sources, { ...defaults, ...o }),
    embedAll: (sources: ImageSources, o?: PipelineOptions) => embedAll(node, sources, { ...defaults, ...o }),
  });
  return node;
}

/** A session on onnxruntime-node: images (paths, bytes, pixels) in, classes or embeddings out. */
export type NodeSession = ImageModelSession<ImageInput> & {
  /** The onnxruntime-node session underneath, for what this API does not cover. */
  readonly ortSession: ort.InferenceSession;
  /** Top-k classes of a whole collection, in input order, decoding ahead while the model runs (see pipeline.ts). */
  classifyAll(sources: ImageSources, options?: PipelineOptions): AsyncGenerator<ClassifyResult>;
  /** Embeddings of a whole collection, in input order, decoding ahead while the model runs. */
  embedAll(sources: ImageSources, options?: PipelineOptions): AsyncGenerator<EmbedResult>;
};
