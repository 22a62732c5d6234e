import { type Graph, type Engine, type EngineSession, type Model, type SessionOptions, ImageModelSession, MobileNetError, openSession, toOnnx } from '@mobilenet/core';
import type { InferenceSession } from 'onnxruntime-web';
import { WEB_BACKENDS, webgpuUnavailable } from './backends.js';
import { type WebImage, decodeWebImage, webImageName } from './image.js';
import { type OrtSettings, buildFor, loadOrt, wasmThreads } from './ort.js';

export interface WebSessionOptions extends SessionOptions, OrtSettings {
  readonly maxBatch?: number;
}

/** A model for the browser runtime: a core model (built in the page), ONNX bytes, a URL, or a File/Blob. */
export type WebModelSource = Model | Uint8Array | ArrayBuffer | string | Blob;

async function loadBytes(source: WebModelSource): Promise<{ bytes: Uint8Array; name: string; graph?: Graph }> {
  if (typeof source === 'string') {
    const res = await fetch(source);
    if (!res.ok) throw new MobileNetError('model-file', `model URL '${source}'`, 'an .onnx file', `HTTP ${res.status}`);
    return { bytes: new Uint8Array(await res.arrayBuffer()), name: source };
  }
  if (source instanceof Uint8Array) return { bytes: source, name: 'model bytes' };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: 'model bytes' };
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { bytes: new Uint8Array(await source.arrayBuffer()), name: (source as File).name ?? 'model file' };
  }
  const model = source as Model;
  return { bytes: toOnnx(model.graph), name: model.graph.name, graph: model.graph };
}

/** onnxruntime-web as an engine of the shared API. */
function engine(o: WebSessionOptions): Engine<WebImage, EngineSession & { ort: InferenceSession }> {
  return {
    runtime: 'onnxruntime-web',
    backends: WEB_BACKENDS,
    fallbackBackend: 'wasm',
    unavailable: (backend) => (backend === 'webgpu' ? webgpuUnavailable() : null),
    async start(bytes, backend) {
      const ort = await loadOrt(buildFor(backend), o);
      const s = await ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: o.graphOptimization ?? 'all' });
      return {
        ort: s,
        async run(input, dims, inputName, output) {
          const out = (await s.run({ [inputName]: new ort.Tensor('float32', input, dims) }, [output]))[output]!;
          const data = (await out.getData()) as Float32Array;
          out.dispose();
          return data;
        },
        release: () => s.release(),
      };
    },
    name: webImageName,
    decode: decodeWebImage,
  };
}

/** A session on onnxruntime-web. */
export type WebSession = ImageModelSession<WebImage> & {
  readonly ortSession: InferenceSession;
  /** WASM threads in use, and why that many. */
  readonly wasm: { readonly threads: number; readonly why: string };
};

/** Creates a session in the browser (or in Node, WASM only, for tests): same API as @mobilenet/runtime-node. */
export async function createSession(source: WebModelSource, options: WebSessionOptions = {}): Promise<WebSession> {
  const wasm = wasmThreads(options);
  const { session, engineSession } = await openSession(engine(options), await loadBytes(source), { maxBatch: 8, ...options });
  return Object.assign(session, { ortSession: engineSession.ort, wasm });
}
