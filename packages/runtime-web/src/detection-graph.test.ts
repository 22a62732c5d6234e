// SSD's postprocessing in the ONNX graph (core's appendSsdPostprocess) runs in onnxruntime-web's WASM backend (in
// Node) and gives onnxruntime-node CPU's detections: a dense load (27,000 candidates) and a sparse one.
import {
  appendSsdPostprocess,
  defaultBoxes,
  GraphBuilder,
  SSDLITE_DEFAULT_BOXES,
  SSDLITE320_GRIDS,
  SSDLITE320_INPUT_SIZE,
  toOnnx,
} from '@mobilenet/core';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';

const anchors = defaultBoxes(SSDLITE_DEFAULT_BOXES, SSDLITE320_GRIDS, SSDLITE320_INPUT_SIZE);
const A = anchors.length / 4;
const C = 91;

function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

function graphBytes(): Uint8Array {
  const b = new GraphBuilder('ssd-postprocess');
  b.output(b.node('Identity', 'bbox_regression', [b.input('head_boxes', ['N', A, 4]).name]));
  b.output(b.node('Identity', 'cls_logits', [b.input('head_logits', ['N', A, C]).name]));
  return toOnnx(appendSsdPostprocess(b.build(), { anchors, inputSize: SSDLITE320_INPUT_SIZE }));
}

type Ort = typeof ortNode | typeof ortWeb;
async function detect(ort: Ort, session: ortNode.InferenceSession | ortWeb.InferenceSession, n: number) {
  const logits = uniform(n * A * C, -4, 4, 1);
  // image 2: a confident background, 60 objects: a few hundred candidates
  logits.set(uniform(A * C, -12, -4, 3), A * C);
  for (let a = 0; a < A; a++) logits[(A + a) * C] = 4;
  for (let p = 0; p < 60; p++) logits[(A + ((p * 53) % A)) * C + 1 + (p % 7) * 11] = 6 + p / 32;
  const out = await session.run({
    head_boxes: new ort.Tensor('float32', uniform(n * A * 4, -1, 1, 2), [n, A, 4]),
    head_logits: new ort.Tensor('float32', logits, [n, A, C]),
    score_threshold: new ort.Tensor('float32', Float32Array.of(0.001), [1]),
    iou_threshold: new ort.Tensor('float32', Float32Array.of(0.55), [1]),
    max_detections: new ort.Tensor('int64', BigInt64Array.of(300n), [1]),
  } as never);
  return {
    count: Array.from(out.detection_count!.data as BigInt64Array, Number),
    labels: Array.from(out.detection_labels!.data as BigInt64Array, Number),
    scores: out.detection_scores!.data as Float32Array,
    boxes: out.detection_boxes!.data as Float32Array,
  };
}

describe('postprocessing graph in onnxruntime-web WASM', () => {
  it('gives onnxruntime-node CPU’s detections (labels, boxes to 1e-3 px, scores to 1e-6)', async () => {
    const bytes = graphBytes();
    ortWeb.env.wasm.numThreads = 1;
    ortWeb.env.logLevel = 'error';
    const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const node = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
    const [w, n] = [await detect(ortWeb, web, 2), await detect(ortNode, node, 2)];
    await Promise.all([web.release(), node.release()]);
    expect(w.count).toEqual(n.count);
    expect(n.count[0]).toBe(300);
    expect(n.count[1]).toBeLessThan(300);
    expect(w.labels).toEqual(n.labels);
    let box = 0;
    let score = 0;
    for (let i = 0; i < n.boxes.length; i++) box = Math.max(box, Math.abs(w.boxes[i]! - n.boxes[i]!));
    for (let i = 0; i < n.scores.length; i++) score = Math.max(score, Math.abs(w.scores[i]! - n.scores[i]!));
    console.log(`WASM vs node: ${n.count.join(' + ')} detections, box ${box} px, score ${score}`);
    expect(box).toBeLessThanOrEqual(1e-3);
    expect(score).toBeLessThanOrEqual(1e-6);
  });
});
