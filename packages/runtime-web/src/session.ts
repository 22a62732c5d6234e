import { type Engine, type EngineSession, type Model, type SessionOptions, ImageModelSession, MobileNetError, openSession, toOnnx } from '@mobilenet/core';
import * as ort from 'onnxruntime-web';
import { WEB_BACKENDS, webgpuUnavailable } from './backends.js';
import { type WebImage, decodeWebImage, webImageName } from './image.js';

export interface WebSessionOptions extends SessionOptions {
  /** Where onnxruntime-web's .mjs/.wasm files are served from (your own origin; nothing is fetched elsewhere). */
  readonly wasmPaths?: string | { readonly mjs?: string; readonly wasm?: string };
  /** WASM threads. Default: up to 4 when the page is cross-origin isolated, else 1 (browsers forbid more). */
  readonly wasmThreads?: number;
  readonly maxBatch?: number;
}

/** A model for the browser runtime: a core model (built in the page), ONNX bytes, a URL, or a File/Blob. */
export type WebModelSource = Model | Uint8Array | ArrayBuffer | string | Blob;

async function loadBytes(source: WebModelSource): Promise<{ bytes: Uint8Array; name: string }> {
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
  return { bytes: toOnnx(model.graph), name: model.graph.name };
}

/** onnxruntime-web reads its WASM settings once, at the first session. */
function configureWasm(o: WebSessionOptions): { threads: number; why: string } {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1;
  const inBrowser = typeof document !== 'undefined';
  const threads = o.wasmThreads ?? (isolated || !inBrowser ? Math.max(1, Math.min(4, cores)) : 1);
  if (o.wasmThreads !== undefined && (!Number.isInteger(o.wasmThreads) || o.wasmThreads < 1)) {
    throw new MobileNetError('option', 'option wasmThreads', 'a positive integer', String(o.wasmThreads));
  }
  if (o.wasmPaths) ort.env.wasm.wasmPaths = o.wasmPaths as typeof ort.env.wasm.wasmPaths;
  ort.env.wasm.numThreads = inBrowser && !isolated ? 1 : threads;
  const why = inBrowser && !isolated ? 'the page is not cross-origin isolated (serve COOP/COEP headers for threads)' : `${threads} threads`;
  return { threads: ort.env.wasm.numThreads, why };
}

/** onnxruntime-web as an engine of the shared API. */
function engine(o: WebSessionOptions): Engine<WebImage, EngineSession & { ort: ort.InferenceSession }> {
  return {
    runtime: 'onnxruntime-web',
    backends: WEB_BACKENDS,
    fallbackBackend: 'wasm',
    unavailable: (backend) => (backend === 'webgpu' ? webgpuUnavailable() : null),
    async start(bytes, backend) {
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
  readonly ortSession: ort.InferenceSession;
  /** WASM threads in use, and why that many. */
  readonly wasm: { readonly threads: number; readonly why: string };
};

/** Creates a session in the browser (or in Node, WASM only, for tests): same API as @mobilenet/runtime-node. */
export async function createSession(source: WebModelSource, options: WebSessionOptions = {}): Promise<WebSession> {
  const wasm = configureWasm(options);
  const { bytes, name } = await loadBytes(source);
  const { session, engineSession } = await openSession(engine(options), bytes, name, { maxBatch: 8, ...options });
  return Object.assign(session, { ortSession: engineSession.ort, wasm });
}
