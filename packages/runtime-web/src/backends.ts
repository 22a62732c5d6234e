// The backends of onnxruntime-web: a registry this package owns. Each backend registers itself here, with its own
// check and start; sessions and availableBackends() read the registry, and core knows no backend by name.
import {
  type Backend,
  type BackendName,
  BackendRegistry,
  type BackendStatus,
  type EngineSession,
  wrapStart,
} from '@mobilenet/core';
import type { InferenceSession } from 'onnxruntime-web';
import { type Ort, loadOrt } from './ort.js';
import type { WebSessionOptions } from './options.js';

/** A session a web backend started, and the onnxruntime-web build that runs it (its tensors must come from the same build). */
export interface WebStarted {
  readonly ort: Ort;
  readonly session: InferenceSession;
}

/** A backend of onnxruntime-web: `start` loads a build (`loadOrt`) and creates the session on it. */
export type WebBackend = Backend<WebSessionOptions, WebStarted>;

/** A started model: the shared API's run/release over the onnxruntime-web session, and the build under it. */
export type WebEngineSession = EngineSession & WebStarted;

export const backends = new BackendRegistry<WebSessionOptions, WebEngineSession>('onnxruntime-web');

/** Adds a backend to onnxruntime-web's list: `createSession({ backend: name })` and `availableBackends()` see it. */
export function registerBackend(backend: WebBackend): void {
  backends.register(wrapStart(backend, engineSession));
}

function engineSession({ ort, session }: WebStarted): WebEngineSession {
  return {
    ort,
    session,
    async run(input, dims, inputName, outputs, feeds = {}) {
      const inputs: Record<string, InstanceType<Ort['Tensor']>> = {
        [inputName]: new ort.Tensor('float32', input, dims),
      };
      for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor(f.type, f.data, f.dims);
      const out = await session.run(inputs, outputs as string[]);
      const result: Float32Array[] = [];
      for (const name of outputs) {
        const t = out[name]!;
        result.push(asFloat32(await t.getData()));
        t.dispose();
      }
      return result;
    },
    release: () => session.release(),
  };
}

/** An output as float32: a detector's int64 labels and counts are small integers, exact in float32. */
function asFloat32(data: unknown): Float32Array {
  if (data instanceof Float32Array) return data;
  const a = data as ArrayLike<number | bigint>;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number(a[i]);
  return out;
}

/** Why WebGPU cannot run here, or null. */
export async function webgpuUnavailable(): Promise<string | null> {
  const gpu = (globalThis.navigator as (Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }) | undefined)?.gpu;
  if (!gpu) {
    const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
    return secure === false
      ? 'navigator.gpu is missing: WebGPU needs a secure context (https or localhost)'
      : 'navigator.gpu is missing: this browser has no WebGPU (or it is disabled)';
  }
  try {
    return (await gpu.requestAdapter()) ? null : 'no WebGPU adapter: navigator.gpu.requestAdapter() returned null';
  } catch (e) {
    return `no WebGPU adapter: ${(e as Error).message}`;
  }
}

/** Starts a session on one of onnxruntime-web's own execution providers, in the build that runs it best. */
const onProvider =
  (provider: 'wasm' | 'webgpu') =>
  async (bytes: Uint8Array, o: WebSessionOptions): Promise<WebStarted> => {
    // The plain WASM build runs the WASM provider fastest; WebGPU needs the JSEP build (see ort.ts).
    const ort = await loadOrt(provider === 'webgpu' ? 'jsep' : 'wasm', o);
    return {
      ort,
      session: await ort.InferenceSession.create(bytes, {
        executionProviders: [provider],
        graphOptimizationLevel: o.graphOptimization ?? 'all',
      }),
    };
  };

registerBackend({
  name: 'wasm',
  precondition: () => (typeof WebAssembly === 'object' ? null : 'WebAssembly is not available'),
  start: onProvider('wasm'),
});
registerBackend({ name: 'webgpu', precondition: webgpuUnavailable, start: onProvider('webgpu') });

/** Which registered backends work in this page, and for each that does not, why. */
export function availableBackends(): Promise<BackendStatus[]> {
  return backends.status();
}

/** The registered backends' names, in registration order. */
export const backendNames = (): BackendName[] => backends.names();
