import { MobileNetError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { summarizeOnnx } from '../onnx/summary.js';
import { ImageModelSession } from './classifier.js';
import type { RgbImage } from './preprocess.js';
import { type BackendName, type SessionOptions, graphIO, modelInfo } from './session.js';

/** A started onnxruntime session, as a runtime package wraps it. */
export interface EngineSession {
  /** Runs the model on [batch, 3, S, S] and returns one output, row-major. */
  run(input: Float32Array, dims: readonly number[], inputName: string, output: string): Promise<Float32Array>;
  release(): Promise<void>;
}

/** What a runtime package plugs into the shared API: its onnxruntime, its backends, its image decoding. */
export interface Engine<Image, S extends EngineSession> {
  /** Names the onnxruntime package in messages. */
  readonly runtime: string;
  readonly backends: readonly BackendName[];
  /** The backend used when none is asked for, and the one `fallback` falls back to. */
  readonly fallbackBackend: BackendName;
  /** Why a backend cannot start here (checked before trying), or null. */
  unavailable(backend: BackendName): Promise<string | null> | string | null;
  start(bytes: Uint8Array, backend: BackendName): Promise<S>;
  name(image: Image, index: number): string;
  decode(image: Image, name: string): Promise<RgbImage>;
}

/** Starts the requested backend, or with `fallback` the engine's fallback one, saying why. */
async function startBackend<S extends EngineSession>(engine: Engine<unknown, S>, bytes: Uint8Array, name: string, o: SessionOptions) {
  const requested = o.backend ?? engine.fallbackBackend;
  let reason = engine.backends.includes(requested) ? await engine.unavailable(requested) : `backend '${requested}' is not one of ${engine.backends.join(', ')} in ${engine.runtime}`;
  if (!reason) {
    try {
      return { session: await engine.start(bytes, requested), backend: requested };
    } catch (e) {
      // The fallback backend always exists: when it cannot start, the model is what onnxruntime refused.
      if (requested === engine.fallbackBackend) throw modelRefused(engine.runtime, name, e);
      reason = `${engine.runtime} could not start the ${requested} provider for '${name}': ${firstLine(e)}`;
    }
  }
  if (!o.fallback || requested === engine.fallbackBackend) {
    throw new MobileNetError('backend', `option backend '${requested}'`, 'a backend that works here', reason);
  }
  try {
    return { session: await engine.start(bytes, engine.fallbackBackend), backend: engine.fallbackBackend, reason };
  } catch (e) {
    throw modelRefused(engine.runtime, name, e);
  }
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 500);

const modelRefused = (runtime: string, name: string, e: unknown) =>
  new MobileNetError('model', `model '${name}'`, `a model ${runtime} can load`, firstLine(e));

/**
 * The shared way from ONNX bytes to a session: read the model's facts (input [N, 3, H, H], preprocessing, labels),
 * start the backend (or fall back, visibly), and wrap it in the shared classify/embed logic. When the bytes were
 * just written from a graph, the facts come from the graph instead of decoding the bytes again.
 */
export async function openSession<Image, S extends EngineSession>(
  engine: Engine<Image, S>,
  model: { readonly bytes: Uint8Array; readonly name: string; readonly graph?: Graph },
  options: SessionOptions & { readonly maxBatch?: number },
): Promise<{ session: ImageModelSession<Image>; engineSession: S }> {
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new MobileNetError('option', 'option threads', 'a positive integer', String(options.threads));
  }
  const { bytes, name } = model;
  const summary = model.graph ? graphIO(model.graph) : summarizeOnnx(bytes, name);
  const info = modelInfo(summary, name, options);
  const batchDim = summary.inputs[0]!.shape[0];
  const { session, backend, reason } = await startBackend(engine as Engine<unknown, S>, bytes, name, options);
  const size = info.inputSize;
  const wrapped = new ImageModelSession<Image>({
    info,
    backend,
    requestedBackend: options.backend ?? engine.fallbackBackend,
    ...(reason && { fallbackReason: reason }),
    fixedBatch: typeof batchDim === 'number' ? batchDim : null,
    maxBatch: options.maxBatch ?? 16,
    run: (input, batch, output) => session.run(input, [batch, 3, size, size], info.inputName, output),
    name: (img, i) => engine.name(img, i),
    decode: (img, n) => engine.decode(img, n),
    release: () => session.release(),
  });
  return { session: wrapped, engineSession: session };
}
