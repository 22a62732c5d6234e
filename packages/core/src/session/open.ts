import { MobileNetError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { type ModelSummary, summarizeOnnx } from '../onnx/summary.js';
import { checkModelOps } from './model-check.js';
import { toOnnx } from '../onnx/write.js';
import { type BackendRegistry, type EngineSession, backendOptions } from './backend.js';
import { type ImageDecoder, ImageModelSession } from './image-session.js';
import { type SessionOptions, graphIO, modelInfo } from './model-info.js';

/** ONNX bytes with the name messages call them by, and the graph when they were just written from one. */
export interface ModelBytes {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly graph?: Graph;
}

/** What every runtime accepts as a model: a built model, or ONNX bytes; plus its own kinds (`Source`: a path, a URL, a Blob). */
export type ModelInput<Source> = { readonly graph: Graph } | Uint8Array | ArrayBuffer | Source;

/**
 * What a runtime package plugs into the shared API, and the only such interface: its onnxruntime's backends (a
 * registry it owns), how it reads its own kinds of model source, and how it names and decodes its image types.
 */
export interface Engine<Image, Source, Options extends SessionOptions, S extends EngineSession> {
  readonly backends: BackendRegistry<Options, S>;
  /** The backend used when none is asked for, and the one `fallback` falls back to. */
  readonly defaultBackend: string;
  /** Largest batch run at once for a model with a dynamic batch, unless the options say. */
  readonly maxBatch: number;
  /** The I/O part of loading a model: a file path (Node), a URL or a Blob (browsers). */
  read(source: Source): Promise<ModelBytes>;
  images(options: Options): ImageDecoder<Image>;
  /** The runtime's pretrained names ('torchvision:...', 'hf-hub:...'): which strings are one, and how one is built with its weights. */
  readonly pretrained?: {
    is(name: string): boolean;
    load(name: string, options: Options): Promise<{ readonly graph: Graph }>;
  };
}

/** Turns any model input into bytes and a name: the shared cases here, the runtime's own through `read`. */
export async function loadModel<Source>(
  source: ModelInput<Source>,
  read: (source: Source) => Promise<ModelBytes>,
  name = 'model bytes',
): Promise<ModelBytes> {
  if (source instanceof Uint8Array) return { bytes: source, name };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name };
  if (isBuilt(source)) return { bytes: toOnnx(source.graph), name: source.graph.name, graph: source.graph };
  return read(source as Source);
}

const isBuilt = (s: unknown): s is { readonly graph: Graph } =>
  typeof s === 'object' &&
  s !== null &&
  'graph' in s &&
  typeof (s as { graph: unknown }).graph === 'object' &&
  (s as { graph: unknown }).graph !== null;

/** Starts the requested backend, or with `fallback` the engine's default one, saying why. */
async function startBackend<O extends SessionOptions & object, S extends EngineSession>(
  backends: BackendRegistry<O, S>,
  fallback: string,
  bytes: Uint8Array,
  name: string,
  o: O,
) {
  const requested = o.backend ?? fallback;
  const runtime = backends.runtime;
  const start = (name: string) => {
    const backend = backends.get(name)!;
    return backend.start(bytes, backendOptions(backend, o));
  };
  let reason = await backends.precondition(requested);
  if (!reason) {
    try {
      return { session: await start(requested), backend: requested };
    } catch (e) {
      // The default backend always exists: when it cannot start, the model is what onnxruntime refused.
      if (requested === fallback) throw modelRefused(runtime, name, e);
      reason = `${runtime} could not start the ${requested} provider for '${name}': ${firstLine(e)}`;
    }
  }
  if (!o.fallback || requested === fallback) {
    throw new MobileNetError('backend', `option backend '${requested}'`, 'a backend that works here', reason);
  }
  try {
    return { session: await start(fallback), backend: fallback, reason };
  } catch (e) {
    throw modelRefused(runtime, name, e);
  }
}

/**
 * An engine's error as one line: onnxruntime's C++ exceptions begin with the source file and the throwing
 * function's signature ('/onnxruntime_src/...h:46 void onnxruntime::...(const std::...&, int) ONNX Runtime only...'),
 * which say nothing to a user: the message is what follows.
 * @internal
 */
export const firstLine = (e: unknown): string =>
  String((e as Error)?.message ?? e)
    .split('\n')[0]!
    .replace(/^\/onnxruntime_src\/\S+:\d+ [^(]*\((?:[^()]|\([^()]*\))*\)\s*/, '')
    .slice(0, 500);

const modelRefused = (runtime: string, name: string, e: unknown) =>
  new MobileNetError('model', `model '${name}'`, `a model ${runtime} can load`, firstLine(e));

/** Most intra-op threads a session may ask for. */
export const MAX_THREADS = 256;
/** Largest batch a session runs at once. */
export const MAX_SESSION_BATCH = 1024;

/** A model file's summary, its ops and node count checked: a model built here is ours, a file may be anything. */
function checkedSummary(bytes: Uint8Array, name: string, options: SessionOptions): ModelSummary {
  const summary = summarizeOnnx(bytes, name);
  checkModelOps(summary, name, options);
  return summary;
}

/**
 * The shared way from a model to a session: load its bytes, read its facts (input [N, 3, H, H], preprocessing,
 * labels), start the backend (or fall back, visibly), and wrap it in the shared classify/embed logic. When the
 * bytes were just written from a graph, the facts come from the graph instead of decoding the bytes again.
 */
export async function openSession<
  Image,
  Source,
  O extends SessionOptions & { readonly maxBatch?: number },
  S extends EngineSession,
>(
  engine: Engine<Image, Source, O, S>,
  source: ModelInput<Source>,
  options: O,
): Promise<{ session: ImageModelSession<Image>; engineSession: S }> {
  if (typeof source === 'string' && engine.pretrained?.is(source))
    return openSession(engine, await engine.pretrained.load(source, options), options);
  // A thread count of 1e9 made onnxruntime throw std::bad_alloc: the CLI's cap, 256, is the library's too.
  if (
    options.threads !== undefined &&
    (!Number.isInteger(options.threads) || options.threads < 1 || options.threads > MAX_THREADS)
  ) {
    throw new MobileNetError(
      'option',
      'option threads',
      `an integer from 1 to ${MAX_THREADS}`,
      String(options.threads),
    );
  }
  const maxBatch = (options as { readonly maxBatch?: number }).maxBatch;
  if (maxBatch !== undefined && (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_SESSION_BATCH))
    throw new MobileNetError(
      'option',
      'option maxBatch',
      `an integer from 1 to ${MAX_SESSION_BATCH}`,
      String(maxBatch),
    );
  const { bytes, name, graph } = await loadModel(source, (s) => engine.read(s), options.name);
  const summary = graph ? graphIO(graph) : checkedSummary(bytes, name, options);
  const info = modelInfo(summary, name, options);
  const batchDim = summary.inputs[0]!.shape[0];
  const { session, backend, reason } = await startBackend(engine.backends, engine.defaultBackend, bytes, name, options);
  const opened = {
    info,
    backend,
    requestedBackend: options.backend ?? engine.defaultBackend,
    ...(reason && { fallbackReason: reason }),
    fixedBatch: typeof batchDim === 'number' ? batchDim : null,
    maxBatch: options.maxBatch ?? engine.maxBatch,
    session,
  };
  return { session: new ImageModelSession<Image>(opened, engine.images(options)), engineSession: session };
}
