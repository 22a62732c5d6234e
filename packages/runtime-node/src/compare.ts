import { summarizeOnnx } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { preprocessingOf } from './model-preprocessing.js';
import { type Fidelity, fidelity } from './fidelity.js';
import { type ImageFolder, readImageFolder } from './image-folder.js';

/** Logits of a model (ONNX bytes) for preprocessed images, one run per image, on onnxruntime-node CPU. */
export async function logitsOf(
  bytes: Uint8Array,
  tensors: readonly Float32Array[],
  size: number,
  threads?: number,
): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    ...(threads && { intraOpNumThreads: threads }),
  });
  try {
    const [input] = s.inputNames;
    const output = s.outputNames.includes('logits') ? 'logits' : s.outputNames[0]!;
    const out: Float32Array[] = [];
    for (const t of tensors)
      out.push(
        (await s.run({ [input!]: new ort.Tensor('float32', t, [1, 3, size, size]) }, [output]))[output]!
          .data as Float32Array,
      );
    return out;
  } finally {
    await s.release();
  }
}

/**
 * Runs a reference and a candidate model over a folder of images, preprocessed as the reference's metadata says,
 * and measures how closely the candidate's logits follow (quantized or half-precision against float32).
 */
export async function compareModels(
  ref: Uint8Array,
  cand: Uint8Array,
  folder: string,
  refName = 'reference',
): Promise<Fidelity & { skipped: ImageFolder['skipped'] }> {
  const pre = preprocessingOf(summarizeOnnx(ref).metadata, refName, 'model');
  const images = await readImageFolder(folder, pre);
  const f = fidelity(await logitsOf(ref, images.tensors, pre.size), await logitsOf(cand, images.tensors, pre.size));
  return { ...f, skipped: images.skipped };
}
