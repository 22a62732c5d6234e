import { readFile } from 'node:fs/promises';
import { type BackendName, type Model, type SessionOptions, ImageModelSession, MobileNetError, modelInfo, summarizeOnnx, toOnnx } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { backendPrecondition } from './backends.js';
import { type ImageInput, decodeImage, imageName } from './image.js';

export interface NodeSessionOptions extends SessionOptions {
  /** onnxruntime's intra-op thread spinning: lower latency alone, but steals CPU from other sessions. Default on. */
  readonly spinning?: boolean;
  /** Largest batch run at once for models with a dynamic batch. Default 16. */
  readonly maxBatch?: number;
}

/** A model for `createSession`: a core model, ONNX bytes, or the path of an .onnx file. */
export type ModelSource = Model | Uint8Array | string;

async function loadBytes(source: ModelSource): Promise<{ bytes: Uint8Array; name: string }> {
  if (typeof source === 'string') {
    try {
      return { bytes: await readFile(source), name: source };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new MobileNetError('model-file', `model file '${source}'`, 'a readable .onnx file', code === 'ENOENT' ? 'no such file' : (e as Error).message);
    }
  }
  if (source instanceof Uint8Array) return { bytes: source, name: 'model bytes' };
  return { bytes: toOnnx(source.graph), name: source.graph.name };
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

/** Starts the requested backend, or with `fallback` the CPU one, saying why. */
async function start(bytes: Uint8Array, name: string, o: NodeSessionOptions) {
  const requested = o.backend ?? 'cpu';
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1)) {
    throw new MobileNetError('option', 'option threads', 'a positive integer', String(o.threads));
  }
  let reason = backendPrecondition(requested);
  if (!reason) {
    try {
      return { session: await ort.InferenceSession.create(bytes, ortOptions(requested, o)), backend: requested };
    } catch (e) {
      reason = `onnxruntime-node could not start the ${requested} provider for '${name}': ${(e as Error).message.split('\n')[0]}`;
    }
  }
  if (!o.fallback || requested === 'cpu') throw new MobileNetError('backend', `option backend '${requested}'`, 'a backend that works here', reason);
  const session = await ort.InferenceSession.create(bytes, ortOptions('cpu', o));
  return { session, backend: 'cpu' as const, reason };
}

/**
 * Creates a session for a MobileNet: reads the model's preprocessing and labels from its metadata (or uses
 * torchvision's for a foreign model), checks the input is [N, 3, H, H], and starts the backend.
 */
export async function createSession(source: ModelSource, options: NodeSessionOptions = {}): Promise<NodeSession> {
  const { bytes, name } = await loadBytes(source);
  const summary = summarizeOnnx(bytes, name);
  const info = modelInfo(summary, name, options);
  const batchDim = summary.inputs[0]!.shape[0];
  const { session, backend, reason } = await start(bytes, name, options);
  const size = info.inputSize;
  const wrapped = new ImageModelSession<ImageInput>({
    info,
    backend,
    requestedBackend: options.backend ?? 'cpu',
    ...(reason && { fallbackReason: reason }),
    fixedBatch: typeof batchDim === 'number' ? batchDim : null,
    maxBatch: options.maxBatch ?? 16,
    async run(input, batch, output) {
      const tensor = new ort.Tensor('float32', input, [batch, 3, size, size]);
      const out = (await session.run({ [info.inputName]: tensor }, [output]))[output]!;
      const data = out.data as Float32Array;
      tensor.dispose();
      out.dispose();
      return data;
    },
    name: imageName,
    decode: decodeImage,
    release: () => session.release(),
  });
  return Object.assign(wrapped, { ortSession: session });
}

/** A session on onnxruntime-node: images (paths, bytes, pixels) in, classes or embeddings out. */
export type NodeSession = ImageModelSession<ImageInput> & {
  /** The onnxruntime-node session underneath, for what this API does not cover. */
  readonly ortSession: ort.InferenceSession;
};
