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
import { preprocessingOf } from './model-preprocessing.js';
import { type ImageFolder, readImageFolder } from './image-folder.js';

export interface CalibrateOptions {
  readonly method?: CalibrationMethod;
  /** For 'percentile': the share of values kept inside the range on each side, in percent. Default 99.99. */
  readonly percentile?: number;
  /** Fewest readable images accepted. Default 8. */
  readonly minimum?: number;
  readonly threads?: number;
  /** Called as images are read (phase 'read') and run (phase 'run'). */
  readonly onProgress?: (phase: 'read' | 'run', done: number, total: number) => void;
}

export interface Calibration {
  readonly ranges: CalibrationRanges;
  readonly skipped: ImageFolder['skipped'];
}

/**
 * Runs a float model over the images of a folder on onnxruntime-node CPU, with every activation observed
 * (core's `observeActivations`), and collects their ranges for `quantize`. Images are preprocessed as the model's
 * metadata says. Unreadable files are skipped and reported in `skipped`.
 */
export async function calibrate(graph: Graph, folder: string, options: CalibrateOptions = {}): Promise<Calibration> {
  const pre = preprocessingOf(graph.metadata, graph.name, 'calibration');
  const images = await readImageFolder(folder, pre, options.minimum ?? 8, (d, t) => options.onProgress?.('read', d, t));
  const observed = observeActivations(graph);
  const session = await ort.InferenceSession.create(toOnnx(observed.graph, { batch: 1 }), {
    executionProviders: ['cpu'],
    ...(options.threads !== undefined && { intraOpNumThreads: options.threads }),
  });
  const collector = new RangeCollector(options.method ?? 'minmax', options.percentile);
  try {
    const input = graph.inputs[0]!.name;
    for (const [i, data] of images.tensors.entries()) {
      const out = await session.run({ [input]: new ort.Tensor('float32', data, [1, 3, pre.size, pre.size]) });
      const values: Record<string, Float32Array> = { [input]: data };
      for (const name of observed.tensors) if (out[name]) values[name] = out[name].data as Float32Array;
      collector.add(values, 1);
      for (const t of Object.values(out)) t.dispose();
      options.onProgress?.('run', i + 1, images.tensors.length);
    }
  } finally {
    await session.release();
  }
  return { ranges: collector.result(modelIdentity(graph)), skipped: images.skipped };
}
