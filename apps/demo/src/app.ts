// The demo's logic, without the DOM: build a model, start a session, classify. window.demo exposes it for tests.
import {
  type Analysis,
  type Arch,
  type Model,
  analyze,
  buildModel,
  buildWithWeights,
  conventionFor,
  fanInFill,
  preprocess,
  readCheckpoint,
  readConfig,
  summarizeOnnx,
  toOnnx,
  weightsKind,
} from '@mobilenet/core';
import { type WebImage, type WebSession, createSession, decodeWebImage, loadPretrained } from '@mobilenet/runtime-web';
import { fixedInput } from '@mobilenet/test-support';
import jsepMjs from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import jsepWasm from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import wasmMjs from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import wasmWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

export interface ModelChoice {
  readonly arch: Arch;
  readonly width: number;
  readonly resolution: number;
  readonly backend: 'wasm' | 'webgpu';
  readonly seed: number;
  /** A user's .onnx file instead of a built model. */
  readonly file?: File;
  /** A torchvision or timm checkpoint for the built model (its convention follows the detected key layout). */
  readonly weights?: File;
  /** A pretrained name ('torchvision:mobilenet_v3_large', 'hf-hub:timm/...'): fetched, verified, built in the page. */
  readonly pretrained?: string;
  /** A mirror of download.pytorch.org/models (for a host without CORS), and the Hugging Face hub's address. */
  readonly torchvisionUrl?: string;
  readonly hfEndpoint?: string;
}

/** What produced a result, shown next to it: seeded weights give confident-looking labels that mean nothing. */
export interface Provenance {
  /** 'seeded (seed 0)', or the name of the checkpoint or .onnx file the weights came from. */
  readonly weights: string;
  /** true: trained weights; false: seeded (labels mean nothing); undefined: a file that does not say (not ours). */
  readonly trained: boolean | undefined;
  readonly convention: string;
}

export interface Prepared {
  readonly session: WebSession;
  readonly analysis: Analysis | null;
  readonly timings: { build: number; session: number };
  readonly key: string;
  readonly provenance: Provenance;
}

// The .mjs/.wasm come from this app's own origin; with Vite, importing them by URL also avoids a worker that
// re-imports the app bundle when threads are on. Two builds: plain WASM (fast CPU path) and JSEP (WebGPU).
export const WASM_PATHS = { wasm: { mjs: wasmMjs, wasm: wasmWasm }, jsep: { mjs: jsepMjs, wasm: jsepWasm } };

let current: Prepared | undefined;

const fileKey = (f?: File) => (f ? `${f.name}:${f.size}:${f.lastModified}` : '');
const keyOf = (c: ModelChoice) =>
  c.pretrained
    ? `${c.pretrained}/${c.backend}/${c.torchvisionUrl ?? ''}/${c.hfEndpoint ?? ''}`
    : `${c.arch}/${c.width}/${c.resolution}/${c.backend}/${c.seed}/${fileKey(c.file)}/${fileKey(c.weights)}`;

/**
 * Builds the chosen model, with the user's checkpoint when given (read here, in the page; its key layout picks the
 * convention). Seeded models use torchvision's convention where the family has one, else the family's (v4: timm).
 */
async function buildChosen(c: ModelChoice): Promise<Model> {
  const shape = { arch: c.arch, width: c.width, resolution: c.resolution, batch: 'dynamic' as const };
  if (!c.weights)
    return buildModel({ ...shape, convention: conventionFor(c.arch, 'torchvision'), weights: fanInFill(c.seed) });
  const ckpt = readCheckpoint(new Uint8Array(await c.weights.arrayBuffer()), c.weights.name);
  return buildWithWeights(shape, ckpt, { source: c.weights.name });
}

/** Builds (or reuses) the model and session for a choice; WebGPU falls back to WASM visibly. */
export async function prepare(choice: ModelChoice): Promise<Prepared> {
  const key = keyOf(choice);
  if (current?.key === key) return current;
  await current?.session.release();
  current = undefined;
  let t = performance.now();
  let source: Parameters<typeof createSession>[0];
  let analysis: Analysis | null = null;
  let provenance: Provenance;
  if (choice.pretrained) {
    const model = await loadPretrained(
      choice.pretrained,
      { batch: 'dynamic' },
      {
        ...(choice.torchvisionUrl && { torchvisionUrl: choice.torchvisionUrl }),
        ...(choice.hfEndpoint && { hfEndpoint: choice.hfEndpoint }),
      },
    );
    analysis = analyze(model.graph);
    source = model;
    const w = model.weights;
    provenance = {
      weights: `${w.name} (sha256 ${w.sha256.slice(0, 12)}..., ${w.fromCache ? "from this browser's cache" : 'downloaded and verified'})`,
      trained: true,
      convention: model.config.convention,
    };
  } else if (choice.file) {
    source = choice.file;
    provenance = await fileProvenance(choice.file);
  } else {
    const model = await buildChosen(choice);
    analysis = analyze(model.graph);
    source = toOnnx(model.graph);
    provenance = {
      weights: choice.weights ? choice.weights.name : `seeded (seed ${choice.seed})`,
      trained: Boolean(choice.weights),
      convention: model.config.convention,
    };
  }
  const build = performance.now() - t;
  t = performance.now();
  const session = await createSession(source, { backend: choice.backend, fallback: true, wasmPaths: WASM_PATHS });
  current = { session, analysis, timings: { build, session: performance.now() - t }, key, provenance };
  return current;
}

/** What a user's .onnx says of itself (our export's metadata); a file that is not ours, or not ONNX, says nothing. */
async function fileProvenance(file: File): Promise<Provenance> {
  let config: Record<string, unknown> = {};
  try {
    const { metadata } = summarizeOnnx(new Uint8Array(await file.arrayBuffer()), file.name);
    config = readConfig(metadata, file.name);
  } catch {
    // The session's start reports a broken file with its own message; here it only lacks a provenance.
  }
  const w = weightsKind(config);
  return {
    weights: file.name,
    trained: w === undefined ? undefined : w === 'trained',
    convention: typeof config.convention === 'string' ? config.convention : 'not recorded in the file',
  };
}

/** The line shown next to the results: which weights, convention and backend produced them. */
export function provenanceLine(p: Provenance, backend: string, threads: number): string {
  const meaning =
    p.trained === false
      ? ': random weights, so these labels mean nothing'
      : p.trained === undefined
        ? ' (the file does not say whether its weights are trained)'
        : '';
  const runs = backend === 'wasm' ? `wasm, ${threads} thread(s)` : backend;
  return `Weights: ${p.weights}${meaning}. Convention: ${p.convention}. Backend: ${runs}.`;
}

export interface Classified {
  readonly backend: string;
  readonly provenance: Provenance;
  readonly fallbackReason?: string;
  readonly top: { index: number; label: string; probability: number }[];
  readonly inference: number;
  readonly timings: { build: number; session: number };
}

export async function classify(choice: ModelChoice, image: WebImage): Promise<Classified> {
  const p = await prepare(choice);
  const t = performance.now();
  const [r] = await p.session.classify([image], { topK: 5 });
  const inference = performance.now() - t;
  if (!r!.ok) throw new Error(r!.error);
  return {
    backend: p.session.backend,
    provenance: p.provenance,
    ...(p.session.fallbackReason && { fallbackReason: p.session.fallbackReason }),
    top: [...r!.top],
    inference,
    timings: p.timings,
  };
}

/** Raw logits for an image URL (the e2e test compares backends and runtimes with these). */
export async function logitsFor(choice: ModelChoice, url: string): Promise<{ backend: string; logits: number[] }> {
  const p = await prepare(choice);
  const pixels = await decodeWebImage(await (await fetch(url)).blob(), url);
  const logits = await p.session.logits(preprocess(pixels, p.session.info.preprocessing), 1);
  return { backend: p.session.backend, logits: Array.from(logits) };
}

export interface BenchCell extends ModelChoice {
  readonly batch: number;
  readonly threads: number;
  readonly runs: number;
  readonly warmup: number;
}

/**
 * Times `logits()` on a fixed input (the benchmark harness drives this through Chromium), returning the latencies
 * and the first row of logits so the harness can check them against onnxruntime-node before trusting the times.
 */
export async function benchmark(cell: BenchCell): Promise<{
  backend: string;
  fallbackReason?: string;
  threads: number;
  latencies: number[];
  windowMs: number;
  logits: number[];
}> {
  const convention = conventionFor(cell.arch, 'torchvision');
  const model = buildModel({
    arch: cell.arch,
    width: cell.width,
    resolution: cell.resolution,
    convention,
    weights: fanInFill(cell.seed),
    batch: cell.batch,
  });
  // onnxruntime-web reads its thread count once per page: the harness reloads the page to change it.
  const session = await createSession(toOnnx(model.graph), {
    backend: cell.backend,
    fallback: false,
    wasmPaths: WASM_PATHS,
    threads: cell.threads,
  });
  try {
    const r = cell.resolution;
    const x = fixedInput(cell.batch, r);
    let out = await session.logits(x, cell.batch);
    for (let i = 1; i < cell.warmup; i++) await session.logits(x, cell.batch);
    const latencies: number[] = [];
    const start = performance.now();
    for (let i = 0; i < cell.runs; i++) {
      const t = performance.now();
      out = await session.logits(x, cell.batch);
      latencies.push(performance.now() - t);
    }
    return {
      backend: session.backend,
      threads: session.wasm.threads,
      latencies,
      // The timed loop's wall time: the harness's throughput is images over it, not 1000 / p50.
      windowMs: performance.now() - start,
      logits: Array.from(out.subarray(0, out.length / cell.batch)),
    };
  } finally {
    await session.release();
  }
}
