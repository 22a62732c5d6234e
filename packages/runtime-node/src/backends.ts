// The backends of onnxruntime-node: a registry this package owns. Each backend registers itself here, with its
// own checks, start and settings; sessions, availableBackends() and the CLI read the registry, and core knows no
// backend by name.
import './ort-env.js';
import {
  type Backend,
  type BackendName,
  BackendRegistry,
  type BackendStatus,
  type EngineSession,
  backendOptions,
  wrapStart,
} from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { cudaPrecondition, tryProvider, tryWebGpu, useWebGpuEnv, vulkanLoaderMissing } from './probes.js';
import type { NodeSessionOptions } from './options.js';

/** A backend of onnxruntime-node: `start` creates the onnxruntime session (`ortOptions` gives its settings). */
export type NodeBackend = Backend<NodeSessionOptions, ort.InferenceSession>;

/** A started model: the shared API's run/release over the onnxruntime-node session. */
export type NodeEngineSession = EngineSession & { readonly ort: ort.InferenceSession };

export const backends = new BackendRegistry<NodeSessionOptions, NodeEngineSession>('onnxruntime-node');

/** Adds a backend to onnxruntime-node's list: `createSession({ backend: name })` and `availableBackends()` see it. */
export function registerBackend(backend: NodeBackend): void {
  backends.register(wrapStart(backend, engineSession));
}

function engineSession(s: ort.InferenceSession): NodeEngineSession {
  return {
    ort: s,
    async run(input, dims, inputName, outputs, feeds = {}) {
      const inputs: Record<string, ort.Tensor> = { [inputName]: new ort.Tensor('float32', input, dims) };
      for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor(f.type, f.data, f.dims);
      try {
        const out = await s.run(inputs, outputs as string[]);
        return outputs.map((name) => {
          const t = out[name]!;
          const data = asFloat32(t.data);
          t.dispose();
          return data;
        });
      } finally {
        for (const t of Object.values(inputs)) t.dispose();
      }
    },
    release: () => s.release(),
  };
}

/** An output as float32: a detector's int64 labels and counts are small integers, exact in float32. */
function asFloat32(data: ort.Tensor['data']): Float32Array {
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

/**
 * The onnxruntime-node session options for a session on `provider`: that registered backend's settings under the
 * caller's options. A backend of its own can run on a built-in provider: `ortOptions('cpu', options)`.
 */
export function ortOptions(provider: BackendName, options: NodeSessionOptions): ort.InferenceSession.SessionOptions {
  const o = backendOptions(backends.get(provider), options);
  return {
    executionProviders: [provider],
    graphOptimizationLevel: o.graphOptimization ?? 'all',
    ...(o.threads !== undefined && { intraOpNumThreads: o.threads }),
    ...(o.spinning === false && { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}

/** What a machine has does not change while a process runs (and Dawn reads its environment once): check once. */
function once(check: () => Promise<string | null>): () => Promise<string | null> {
  let answer: Promise<string | null> | undefined;
  return () => (answer ??= check());
}

const onProvider = (provider: string) => (bytes: Uint8Array, o: NodeSessionOptions) =>
  ort.InferenceSession.create(bytes, ortOptions(provider, o));

registerBackend({ name: 'cpu', check: once(() => tryProvider('cpu')), start: onProvider('cpu') });
registerBackend({
  name: 'cuda',
  precondition: cudaPrecondition,
  check: once(async () => cudaPrecondition() ?? (await tryProvider('cuda'))),
  start: onProvider('cuda'),
});
registerBackend({
  name: 'webgpu',
  precondition: vulkanLoaderMissing,
  // Dawn is started in a child process, so its warnings stay off this process's stderr.
  check: once(async () => vulkanLoaderMissing() ?? (await tryWebGpu())),
  // onnxruntime 1.30's WebGPU provider mis-fuses Conv -> Clip -> HardSwish at 'extended' and above; 'basic' is correct.
  defaults: { graphOptimization: 'basic' },
  start: (bytes, o) => {
    useWebGpuEnv();
    return onProvider('webgpu')(bytes, o);
  },
});

/** Which registered backends work on this machine, and for each that does not, why (each is tried once per process). */
export function availableBackends(): Promise<BackendStatus[]> {
  return backends.status();
}

/** The registered backends' names, in registration order. */
export const backendNames = (): BackendName[] => backends.names();
