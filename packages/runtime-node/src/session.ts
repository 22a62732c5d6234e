import { readFile } from 'node:fs/promises';
import {
  type BackendName, type ClassifyResult, type EmbedResult, type Model, type MobileNetSession, type ModelInfo,
  type SessionOptions, MobileNetError, modelInfo, preprocess, softmax, summarizeOnnx, toOnnx, topK,
} from '@mobilenet/core';
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
  return new NodeSession(session, info, backend, options.backend ?? 'cpu', reason, typeof batchDim === 'number' ? batchDim : null, options.maxBatch ?? 16);
}

export class NodeSession implements MobileNetSession<ImageInput> {
  constructor(
    private readonly session: ort.InferenceSession,
    readonly info: ModelInfo,
    readonly backend: BackendName,
    readonly requestedBackend: BackendName,
    readonly fallbackReason: string | undefined,
    /** The model's fixed batch size, or null when it is dynamic. */
    readonly fixedBatch: number | null,
    private readonly maxBatch: number,
  ) {}

  async logits(input: Float32Array, batch: number): Promise<Float32Array> {
    return (await this.runOutputs(input, batch, this.info.outputName)).data as Float32Array;
  }

  private async runOutputs(input: Float32Array, batch: number, output: string): Promise<ort.Tensor> {
    const s = this.info.inputSize;
    if (input.length !== batch * 3 * s * s) {
      throw new MobileNetError('input', `input of '${this.info.inputName}'`, `${batch * 3 * s * s} floats for [${batch}, 3, ${s}, ${s}]`, `${input.length}`);
    }
    const tensor = new ort.Tensor('float32', input, [batch, 3, s, s]);
    const out = await this.session.run({ [this.info.inputName]: tensor }, [output]);
    tensor.dispose();
    return out[output]!;
  }

  /** Decodes and preprocesses every image; failures are kept per image, by name. */
  private async prepare(images: readonly ImageInput[]) {
    const pre = this.info.preprocessing;
    const n = 3 * pre.size * pre.size;
    return Promise.all(
      images.map(async (img, i) => {
        const name = imageName(img, i);
        try {
          return { name, tensor: preprocess(await decodeImage(img, name), pre, new Float32Array(n)) };
        } catch (e) {
          return { name, error: (e as Error).message };
        }
      }),
    );
  }

  /** Runs the good images in batches the model accepts and returns each image's output row. */
  private async forward(images: readonly ImageInput[], output: string): Promise<({ name: string; row: Float32Array } | { name: string; error: string })[]> {
    const prepared = await this.prepare(images);
    const good = prepared.filter((p) => p.tensor);
    const rows = new Map<number, Float32Array>();
    const step = this.fixedBatch ?? Math.max(1, this.maxBatch);
    const n = 3 * this.info.inputSize ** 2;
    for (let i = 0; i < good.length; i += step) {
      const chunk = good.slice(i, i + step);
      const batch = new Float32Array(step * n);
      chunk.forEach((p, j) => batch.set(p.tensor!, j * n));
      const runBatch = this.fixedBatch ?? chunk.length;
      const out = await this.runOutputs(runBatch === step ? batch : batch.subarray(0, runBatch * n), runBatch, output);
      const width = out.dims[1]!;
      const data = out.data as Float32Array;
      chunk.forEach((_, j) => rows.set(i + j, data.slice(j * width, (j + 1) * width)));
      out.dispose();
    }
    let k = 0;
    return prepared.map((p) => (p.tensor ? { name: p.name, row: rows.get(k++)! } : { name: p.name, error: p.error! }));
  }

  async classify(images: readonly ImageInput[], options: { topK?: number } = {}): Promise<ClassifyResult[]> {
    const k = options.topK ?? 5;
    if (!Number.isInteger(k) || k < 1) throw new MobileNetError('option', 'option topK', 'a positive integer', String(k));
    const results = await this.forward(images, this.info.outputName);
    return results.map((r) =>
      'row' in r ? { image: r.name, ok: true as const, top: topK(softmax(r.row), k, this.info.labels) } : { image: r.name, ok: false as const, error: r.error },
    );
  }

  async embed(images: readonly ImageInput[]): Promise<EmbedResult[]> {
    const name = this.info.embeddingName;
    if (!name) throw new MobileNetError('model-output', 'model', "an 'embedding' output (export with embedding: true / --embedding)", 'none');
    const results = await this.forward(images, name);
    return results.map((r) => ('row' in r ? { image: r.name, ok: true as const, embedding: r.row } : { image: r.name, ok: false as const, error: r.error }));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
