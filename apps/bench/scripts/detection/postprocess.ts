// Benchmark (not a test): SSDLite320's postprocessing per image, in the ONNX graph (onnxruntime-node CPU and
// onnxruntime-web WASM, 1 thread; the postprocessing alone: raw heads in, detections out) against core/detection's
// TypeScript postprocessDetections on the same head outputs. Runs alternate so every way sees the same machine
// state; medians of wall time and of this process's CPU time (all its threads; the fairer number on a busy machine). Two loads: 'dense' (uniform logits, all 27,000 class-anchor pairs pass 0.001) and
// 'sparse' (a confident background, 360 candidates: what a trained model gives on most photos).
// Run: pnpm --filter bench exec tsx --conditions=source scripts/detection/postprocess.ts [--runs 30]
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  appendSsdPostprocess,
  defaultBoxes,
  GraphBuilder,
  postprocessDetections,
  SSDLITE_DEFAULT_BOXES,
  SSDLITE320_GRIDS,
  SSDLITE320_INPUT_SIZE,
  toOnnx,
} from '@mobilenet/core';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';

const { values } = parseArgs({ options: { runs: { type: 'string' } } });
const RUNS = Number(values.runs ?? 30);
const anchors = defaultBoxes(SSDLITE_DEFAULT_BOXES, SSDLITE320_GRIDS, SSDLITE320_INPUT_SIZE);
const A = anchors.length / 4;
const C = 91;

/** Deterministic uniform floats in [lo, hi). */
function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

function heads(load: 'dense' | 'sparse') {
  const deltas = uniform(A * 4, -1, 1, 2);
  const logits = load === 'dense' ? uniform(A * C, -4, 4, 1) : uniform(A * C, -12, -4, 3);
  if (load === 'sparse') {
    for (let a = 0; a < A; a++) logits[a * C] = 4; // background
    for (let p = 0; p < 60; p++) logits[((p * 53) % A) * C + 1 + (p % 7) * 11] = 6 + p / 32; // 60 objects
  }
  return { deltas, logits };
}

function postprocessGraph(): Uint8Array {
  const b = new GraphBuilder('ssd-postprocess');
  b.output(b.node('Identity', 'bbox_regression', [b.input('head_boxes', [1, A, 4]).name]));
  b.output(b.node('Identity', 'cls_logits', [b.input('head_logits', [1, A, C]).name]));
  return toOnnx(appendSsdPostprocess(b.build(), { anchors, inputSize: SSDLITE320_INPUT_SIZE }));
}

type Ort = typeof ortNode | typeof ortWeb;
function feeds(ort: Ort, h: ReturnType<typeof heads>) {
  return {
    head_boxes: new ort.Tensor('float32', h.deltas, [1, A, 4]),
    head_logits: new ort.Tensor('float32', h.logits, [1, A, C]),
    score_threshold: new ort.Tensor('float32', Float32Array.of(0.001), [1]),
    iou_threshold: new ort.Tensor('float32', Float32Array.of(0.55), [1]),
    max_detections: new ort.Tensor('int64', BigInt64Array.of(300n), [1]),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const bytes = postprocessGraph();
  ortWeb.env.wasm.numThreads = 1;
  const node = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  console.log(
    `${os.cpus()[0]?.model}, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const load of ['dense', 'sparse'] as const) {
    const h = heads(load);
    const ways: Record<string, () => Promise<number>> = {
      'TypeScript postprocessDetections': async () =>
        postprocessDetections(h.deltas, h.logits, { anchors, numClasses: C, inputSize: [320, 320] }, [320, 320]).scores
          .length,
      'graph, onnxruntime-node CPU': async () => Number((await node.run(feeds(ortNode, h))).detection_count!.data[0]),
      'graph, onnxruntime-web WASM': async () => Number((await web.run(feeds(ortWeb, h))).detection_count!.data[0]),
    };
    const times: Record<string, number[]> = {};
    const cpu: Record<string, number[]> = {};
    const counts: Record<string, number> = {};
    for (let r = -3; r < RUNS; r++)
      for (const [name, fn] of Object.entries(ways)) {
        const t = performance.now();
        const c = process.cpuUsage();
        counts[name] = await fn();
        const used = process.cpuUsage(c);
        if (r >= 0) (times[name] ??= []).push(performance.now() - t);
        if (r >= 0) (cpu[name] ??= []).push((used.user + used.system) / 1000);
      }
    for (const name of Object.keys(ways))
      console.log(
        `${load}: ${name}: ${median(times[name]!).toFixed(2)} ms wall, ${median(cpu[name]!).toFixed(2)} ms CPU per image (${counts[name]} detections)`,
      );
  }
  await node.release();
  await web.release();
}

await main();
