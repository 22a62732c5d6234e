import './ort-env.js';
import {
  type ModelCheckOptions,
  type ModelInfo,
  MobileNetError,
  checkModelOps,
  firstLine,
  modelInfo,
  nonFinite,
  quote,
  summarizeOnnx,
} from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { type Fidelity, FidelityAccumulator } from './fidelity.js';
import { type ImageFolder, folderEntries, folderImages, preprocessingOf, tooFewImages } from '@mobilenet/runtime-node';

/** Logits of a model (ONNX bytes) for preprocessed images, one run per image, on onnxruntime-node CPU. */
export async function logitsOf(
  bytes: Uint8Array,
  tensors: readonly Float32Array[],
  size: number,
  threads?: number,
): Promise<Float32Array[]> {
  const runner = await Runner.open(bytes, 'model', size, threads);
  try {
    const out: Float32Array[] = [];
    for (const t of tensors) out.push(await runner.logits(t));
    return out;
  } finally {
    await runner.release();
  }
}

/** One model on onnxruntime-node CPU, run one preprocessed image at a time. */
class Runner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly name: string,
    private readonly size: number,
    private readonly output: string,
  ) {}

  static async open(bytes: Uint8Array, name: string, size: number, threads?: number): Promise<Runner> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        // Errors are ours to report, naming the file: onnxruntime's own log would print them again, coloured.
        logSeverityLevel: 4,
        ...(threads && { intraOpNumThreads: threads }),
      });
    } catch (e) {
      throw new MobileNetError(
        'model',
        `model ${quote(name, Infinity)}`,
        'a model onnxruntime-node can load',
        firstLine(e),
      );
    }
    const output = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0]!;
    return new Runner(session, name, size, output);
  }

  async logits(tensor: Float32Array): Promise<Float32Array> {
    const [input] = this.session.inputNames;
    const feed = new ort.Tensor('float32', tensor, [1, 3, this.size, this.size]);
    const result = (await this.session.run({ [input!]: feed }, [this.output]))[this.output]!;
    const data = result.data as Float32Array;
    result.dispose();
    feed.dispose();
    return data;
  }

  /** The logits, refused when not finite: a NaN would read as 'SQNR NaN' in the result. */
  async finiteLogits(tensor: Float32Array, image: string): Promise<Float32Array> {
    const out = await this.logits(tensor);
    const bad = nonFinite(out, this.output);
    if (bad)
      throw new MobileNetError(
        'compare',
        `model ${quote(this.name, Infinity)} on image ${quote(image, Infinity)}`,
        'finite logits',
        bad,
      );
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export interface CompareOptions extends ModelCheckOptions {
  /** Names of the two models in messages (their files). */
  readonly names?: { readonly reference: string; readonly candidate: string };
  readonly threads?: number;
}

/**
 * What a model file declares, checked as a session checks it: ops on the list, input [N, 3, H, H] within 4096,
 * classes within 100000, and for the reference its preprocessing metadata (bad JSON, a std of 0, a size of 20000
 * or an unknown mode are refused by name).
 */
function describe(
  bytes: Uint8Array,
  name: string,
  options: ModelCheckOptions,
): { info: ModelInfo; metadata: Readonly<Record<string, string>> } {
  const summary = summarizeOnnx(bytes, name);
  checkModelOps(summary, name, options);
  return { info: modelInfo(summary, name), metadata: summary.metadata };
}

/** The candidate must answer the same question: same input size and as many classes as the reference. */
function checkPair(ref: ModelInfo, cand: ModelInfo, names: { reference: string; candidate: string }): void {
  const mismatch = (what: string, r: number, c: number) =>
    new MobileNetError(
      'compare',
      `candidate ${quote(names.candidate, Infinity)}`,
      `${what} ${r}, as the reference ${quote(names.reference, Infinity)} has`,
      `${what} ${c}`,
    );
  if (cand.inputSize !== ref.inputSize) throw mismatch('input size', ref.inputSize, cand.inputSize);
  if (cand.classes !== ref.classes) throw mismatch('classes', ref.classes, cand.classes);
}

/**
 * Runs a reference and a candidate model over a folder of images, preprocessed as the reference's metadata says,
 * and measures how closely the candidate's logits follow (quantized or half-precision against float32). Images are
 * read, run and dropped one at a time: memory stays that of one image whatever the folder holds.
 */
export async function compareModels(
  ref: Uint8Array,
  cand: Uint8Array,
  folder: string,
  refNameOrOptions: string | CompareOptions = 'reference',
): Promise<Fidelity & { skipped: ImageFolder['skipped'] }> {
  const o: CompareOptions =
    typeof refNameOrOptions === 'string'
      ? { names: { reference: refNameOrOptions, candidate: 'candidate' } }
      : refNameOrOptions;
  const names = o.names ?? { reference: 'reference', candidate: 'candidate' };
  const reference = describe(ref, names.reference, o);
  const pre = preprocessingOf(reference.metadata, names.reference, 'model');
  checkPair(reference.info, describe(cand, names.candidate, o).info, names);
  const first = await Runner.open(ref, names.reference, pre.size, o.threads);
  const runners = [
    first,
    await Runner.open(cand, names.candidate, pre.size, o.threads).catch(async (e) => {
      await first.release();
      throw e;
    }),
  ] as const;
  const acc = new FidelityAccumulator();
  const skipped: { file: string; reason: string }[] = [];
  try {
    for await (const image of folderImages(folder, pre)) {
      if (!('tensor' in image)) {
        skipped.push({ file: image.name, reason: image.reason });
        continue;
      }
      const r = await runners[0].finiteLogits(image.tensor, image.name);
      acc.add(r, await runners[1].finiteLogits(image.tensor, image.name));
    }
  } finally {
    await Promise.all(runners.map((x) => x.release()));
  }
  const f = acc.result();
  if (f.images === 0) throw tooFewImages(folder, 1, 0, folderEntries(folder).length, skipped);
  return { ...f, skipped };
}
