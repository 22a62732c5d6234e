// Teach mode's logic, without the DOM: embed the user's photos with a base model, train a head in a Web Worker, fuse
// it behind the base (one .onnx file, class names in its metadata) and run it. window.demo.teach exposes it for tests.
import {
  type Arch,
  type EpochRecord,
  type Graph,
  type TrainedHead,
  type TrainHeadOptions,
  buildModel,
  conventionFor,
  fanInFill,
  fuseHead,
  toOnnx,
} from '@mobilenet/core';
import { type WebImage, type WebSession, createSession, loadPretrained } from '@mobilenet/runtime-web';
import { WASM_PATHS } from './app.js';

export interface TeachBase {
  readonly arch: Arch;
  readonly width: number;
  readonly resolution: number;
  readonly seed: number;
  readonly backend: 'wasm' | 'webgpu';
  /** A pretrained name: real features (seeded weights still separate easy classes). */
  readonly pretrained?: string;
}

interface Base {
  readonly key: string;
  readonly graph: Graph;
  readonly session: WebSession;
  readonly record: string;
}

let base: Base | undefined;

/** The base model with its 'embedding' output, and a session on it (reused while the choice is the same). */
async function baseFor(b: TeachBase): Promise<Base> {
  const key = JSON.stringify(b);
  if (base?.key === key) return base;
  await base?.session.release();
  base = undefined;
  const model = b.pretrained
    ? await loadPretrained(b.pretrained, { batch: 'dynamic', embedding: true })
    : buildModel({
        arch: b.arch,
        width: b.width,
        resolution: b.resolution,
        convention: conventionFor(b.arch, 'torchvision'),
        weights: fanInFill(b.seed),
        embedding: true,
        batch: 'dynamic',
      });
  const session = await createSession(toOnnx(model.graph), {
    backend: b.backend,
    fallback: true,
    wasmPaths: WASM_PATHS,
  });
  const record =
    b.pretrained ?? `arch ${b.arch} width ${b.width} resolution ${b.resolution}, seeded (fan-in, seed ${b.seed})`;
  base = { key, graph: model.graph, session, record };
  return base;
}

/** The embeddings of the images, N x D, in order; an image that fails is an error naming it. */
export async function embedImages(b: TeachBase, images: readonly WebImage[]): Promise<Float32Array> {
  const { session } = await baseFor(b);
  const rows = await session.embed(images);
  const dim = rows.find((r) => r.ok)?.embedding.length ?? 0;
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    if (!r.ok) throw new Error(`image ${i + 1}: ${r.error}`);
    out.set(r.embedding, i * dim);
  });
  return out;
}

/** trainHead in a module Web Worker; `onEpoch` sees each epoch's loss and validation accuracy. */
export function trainInWorker(
  options: Omit<TrainHeadOptions, 'onEpoch'>,
  onEpoch?: (r: EpochRecord) => void,
): Promise<TrainedHead> {
  const worker = new Worker(new URL('./teach-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<TrainedHead>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ epoch?: EpochRecord; head?: TrainedHead; error?: string }>) => {
      if (e.data.epoch) return void onEpoch?.(e.data.epoch);
      worker.terminate();
      if (e.data.head) resolve(e.data.head);
      else reject(new Error(e.data.error));
    };
    worker.onerror = (e) => (worker.terminate(), reject(new Error(e.message)));
    worker.postMessage({ options });
  }).finally(() => worker.terminate());
}

export interface Taught {
  readonly head: TrainedHead;
  /** The fused model, as the download gives it. */
  readonly bytes: Uint8Array;
  readonly session: WebSession;
}

let taught: Taught | undefined;

/**
 * The whole of Teach: embed each class's examples, train (in a worker), fuse, open a session on the fused file.
 * Classes are given in order; their names become the model's labels.
 */
export async function teach(
  b: TeachBase,
  classes: readonly { name: string; images: readonly WebImage[] }[],
  options: Omit<TrainHeadOptions, 'embeddings' | 'labels' | 'classes' | 'onEpoch'> = {},
  onEpoch?: (r: EpochRecord) => void,
): Promise<Taught> {
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (const [i, c] of classes.entries()) {
    parts.push(await embedImages(b, c.images));
    for (const _ of c.images) labels.push(i);
  }
  const embeddings = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (embeddings.set(p, at), at + p.length), 0);
  const names = classes.map((c) => c.name);
  const head = await trainInWorker(
    { val: 0.2, epochs: 100, standardize: true, ...options, embeddings, labels, classes: names },
    onEpoch,
  );
  const { graph, record } = await baseFor(b);
  const fused = fuseHead(graph, head, {
    base: record,
    imagesPerClass: Object.fromEntries(names.map((n, i) => [n, head.counts[i]!])),
    valAccuracy: Number.isNaN(head.valAccuracy) ? null : head.valAccuracy,
    seed: head.options.seed,
    head: head.options,
    trainedIn: 'the demo page (Web Worker)',
  });
  const bytes = toOnnx(fused);
  await taught?.session.release();
  const session = await createSession(bytes, { backend: b.backend, fallback: true, wasmPaths: WASM_PATHS });
  taught = { head, bytes, session };
  return taught;
}

/** The taught model's probabilities for images (every class, in class order), as the page shows them. */
export async function tryTaught(images: readonly WebImage[]): Promise<{ label: string; probabilities: number[] }[]> {
  if (!taught) throw new Error('teach first: no model has been trained in this page');
  const k = taught.head.classes.length;
  const results = await taught.session.classify(images, { topK: k });
  return results.map((r, i) => {
    if (!r.ok) throw new Error(`image ${i + 1}: ${r.error}`);
    const probabilities = new Array<number>(k).fill(0);
    for (const t of r.top) probabilities[t.index] = t.probability;
    return { label: r.top[0]!.label, probabilities };
  });
}
