import './ort-env.js';
import {
  type CalibrationMethod,
  type CalibrationRanges,
  type Graph,
  RangeCollector,
  modelIdentity,
  observeActivations,
  toOnnx,
} from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { type ImageFolder, folderEntries, folderImages, preprocessingOf, tooFewImages } from '@mobilenet/runtime-node';

export interface CalibrateOptions {
  readonly method?: CalibrationMethod;
  /** For 'percentile': the share of values kept inside the range on each side, in percent. Default 99.99. */
  readonly percentile?: number;
  /** Fewest readable images accepted. Default 8. */
  readonly minimum?: number;
  readonly threads?: number;
  /** How many of the preprocessed images to hand back in `kept` (the first ones read; e.g. for a check). Default 0. */
  readonly keep?: number;
  /** Called as each file of the folder is read (phase 'read') and run (phase 'run'); `total` counts the files. */
  readonly onProgress?: (phase: 'read' | 'run', done: number, total: number) => void;
}

export interface Calibration {
  readonly ranges: CalibrationRanges;
  readonly skipped: ImageFolder['skipped'];
  /** The first `keep` preprocessed images. */
  readonly kept: Float32Array[];
}

/**
 * Runs a float model over the images of a folder on onnxruntime-node CPU, with every activation observed
 * (core's `observeActivations`), and collects their ranges for `quantize`. Images are preprocessed as the model's
 * metadata says, and read, run and dropped one at a time (a folder of thousands costs the memory of one image).
 * Unreadable files (a FIFO, a device, a broken image) are skipped and reported in `skipped`.
 */
export async function calibrate(graph: Graph, folder: string, options: CalibrateOptions = {}): Promise<Calibration> {
  const pre = preprocessingOf(graph.metadata, graph.name, 'calibration');
  const entries = folderEntries(folder);
  const observed = observeActivations(graph);
  const session = await ort.InferenceSession.create(toOnnx(observed.graph, { batch: 1 }), {
    executionProviders: ['cpu'],
    ...(options.threads !== undefined && { intraOpNumThreads: options.threads }),
  });
  const collector = new RangeCollector(options.method ?? 'minmax', options.percentile);
  const skipped: { file: string; reason: string }[] = [];
  const kept: Float32Array[] = [];
  let done = 0;
  try {
    const input = graph.inputs[0]!.name;
    for await (const image of folderImages(folder, pre, {}, entries)) {
      options.onProgress?.('read', ++done, entries.length);
      if ('tensor' in image) {
        const out = await session.run({ [input]: new ort.Tensor('float32', image.tensor, [1, 3, pre.size, pre.size]) });
        const values: Record<string, Float32Array> = { [input]: image.tensor };
        for (const name of observed.tensors) if (out[name]) values[name] = out[name].data as Float32Array;
        collector.add(values, 1);
        if (kept.length < (options.keep ?? 0)) kept.push(image.tensor);
        for (const t of Object.values(out)) t.dispose();
      } else skipped.push({ file: image.name, reason: image.reason });
      options.onProgress?.('run', done, entries.length);
    }
  } finally {
    await session.release();
  }
  const minimum = options.minimum ?? 8;
  if (collector.images < minimum) throw tooFewImages(folder, minimum, collector.images, entries.length, skipped);
  return { ranges: collector.result(modelIdentity(graph)), skipped, kept };
}
