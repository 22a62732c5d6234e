// SSD's postprocessing in the ONNX graph (core's appendSsdPostprocess) in a real browser: Debian's headless
// Chromium loads onnxruntime-web's WASM build (1 thread) from a 127.0.0.1 server this test starts and stops, runs
// the file on a dense and a sparse image, and must give onnxruntime-node CPU's detections.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  appendSsdPostprocess,
  defaultBoxes,
  GraphBuilder,
  SSDLITE_DEFAULT_BOXES,
  SSDLITE320_GRIDS,
  SSDLITE320_INPUT_SIZE,
  toOnnx,
} from '@mobilenet/core';
import { skipUnless } from '@mobilenet/test-support';
import { chromiumMissing, launchChromium } from '@mobilenet/test-support/chromium';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

const missing = skipUnless('Chromium', chromiumMissing());
const anchors = defaultBoxes(SSDLITE_DEFAULT_BOXES, SSDLITE320_GRIDS, SSDLITE320_INPUT_SIZE);
const A = anchors.length / 4;
const C = 91;
/**
 * The heads of two images: 1, uniform logits (27,000 candidates); 2, a confident background and 60 objects (a few
 * hundred). Self-contained: the page gets its source (4.6 MB of floats need not travel).
 */
function makeHeads(a: number, c: number): { boxes: Float32Array; logits: Float32Array } {
  const uniform = (n: number, lo: number, hi: number, seed: number) => {
    let s = seed >>> 0;
    return Float32Array.from({ length: n }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return lo + ((hi - lo) * s) / 2 ** 32;
    });
  };
  const logits = uniform(2 * a * c, -4, 4, 1);
  logits.set(uniform(a * c, -12, -4, 3), a * c);
  for (let i = 0; i < a; i++) logits[(a + i) * c] = 4;
  for (let p = 0; p < 60; p++) logits[(a + ((p * 53) % a)) * c + 1 + (p % 7) * 11] = 6 + p / 32;
  return { boxes: uniform(2 * a * 4, -1, 1, 2), logits };
}
const DIST = join(import.meta.dirname, '../node_modules/onnxruntime-web/dist');

function graphBytes(): Uint8Array {
  const b = new GraphBuilder('ssd-postprocess');
  b.output(b.node('Identity', 'bbox_regression', [b.input('head_boxes', ['N', A, 4]).name]));
  b.output(b.node('Identity', 'cls_logits', [b.input('head_logits', ['N', A, C]).name]));
  return toOnnx(appendSsdPostprocess(b.build(), { anchors, inputSize: SSDLITE320_INPUT_SIZE }));
}

interface Detected {
  count: number[];
  labels: number[];
  scores: number[];
  boxes: number[];
}

/** The page's run, as source (not a function vitest would transform): onnxruntime-web's WASM module, the model. */
const IN_PAGE = `(async () => {
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = '/ort/';
  const bytes = new Uint8Array(await (await fetch('/model.onnx')).arrayBuffer());
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const x = (${makeHeads.toString()})(${A}, ${C});
  const out = await s.run({
    head_boxes: new ort.Tensor('float32', x.boxes, [2, ${A}, 4]),
    head_logits: new ort.Tensor('float32', x.logits, [2, ${A}, ${C}]),
    score_threshold: new ort.Tensor('float32', Float32Array.of(0.001), [1]),
    iou_threshold: new ort.Tensor('float32', Float32Array.of(0.55), [1]),
    max_detections: new ort.Tensor('int64', BigInt64Array.of(300n), [1]),
  });
  const list = (t) => Array.from(t.data, Number);
  return { count: list(out.detection_count), labels: list(out.detection_labels), scores: list(out.detection_scores),
    boxes: list(out.detection_boxes) };
})()`;

async function inNode(bytes: Uint8Array): Promise<Detected> {
  const x = makeHeads(A, C);
  const s = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const out = await s.run({
      head_boxes: new ortNode.Tensor('float32', x.boxes, [2, A, 4]),
      head_logits: new ortNode.Tensor('float32', x.logits, [2, A, C]),
      score_threshold: new ortNode.Tensor('float32', Float32Array.of(0.001), [1]),
      iou_threshold: new ortNode.Tensor('float32', Float32Array.of(0.55), [1]),
      max_detections: new ortNode.Tensor('int64', BigInt64Array.of(300n), [1]),
    });
    const list = (t: ortNode.Tensor) => Array.from(t.data as ArrayLike<number | bigint>, Number);
    return {
      count: list(out.detection_count!),
      labels: list(out.detection_labels!),
      scores: list(out.detection_scores!),
      boxes: list(out.detection_boxes!),
    };
  } finally {
    await s.release();
  }
}

describe.skipIf(missing !== null)('the postprocessing graph in Chromium (onnxruntime-web WASM)', () => {
  it('gives onnxruntime-node CPU’s detections: labels, boxes to 1e-3 px, scores to 1e-6', async () => {
    const bytes = graphBytes();
    const server = createServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/model.onnx') return void res.end(bytes);
      if (url === '/') return void res.setHeader('content-type', 'text/html').end('<!doctype html><title>ssd</title>');
      const name = url.slice('/ort/'.length);
      if (!url.startsWith('/ort/') || !/^ort[\w.-]*\.(mjs|wasm)$/.test(name)) return void res.writeHead(404).end();
      res.setHeader('content-type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
      res.end(readFileSync(join(DIST, name)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const browser = await launchChromium({ webgpu: false });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const web = (await page.evaluate(IN_PAGE)) as Detected;
      const node = await inNode(bytes);
      expect(web.count).toEqual(node.count);
      expect(node.count).toEqual([300, 60]);
      expect(web.labels).toEqual(node.labels);
      const box = Math.max(...node.boxes.map((v, i) => Math.abs(v - web.boxes[i]!)));
      const score = Math.max(...node.scores.map((v, i) => Math.abs(v - web.scores[i]!)));
      console.log(
        `Chromium WASM vs onnxruntime-node: ${node.count.join(' + ')} detections, box ${box} px, score ${score}`,
      );
      expect(box).toBeLessThanOrEqual(1e-3);
      expect(score).toBeLessThanOrEqual(1e-6);
    } finally {
      await browser.close();
      server.close();
    }
  });
});
