// The real SSDLite320 graph (models/ssdlite.ts) with its postprocessing appended from its metadata: in
// onnxruntime-node it gives what core/detection's TypeScript postprocessing (checked against torchvision in
// detection/) gives on the raw outputs of the same weights, on skimage's photographs.
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { defaultBoxes } from '../detection/anchors.js';
import { postprocessDetections } from '../detection/postprocess.js';
import { GraphBuilder } from '../ir/builder.js';
import { readDetectionMetadata } from '../metadata/dense.js';
import { buildModel } from '../models/build.js';
import { fanInFill } from '../models/fill.js';
import { toOnnx } from '../onnx/write.js';
import { compareDetections, imageDetections } from '../../test/detection/graph.js';
import { onnxCheck, pythonOnnxMissing } from '../../test/testing.js';
import { withGraphPostprocess } from './detection-graph.js';

const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
const PHOTOS = ['astronaut', 'coffee', 'chelsea'];

// PIL's bilinear squash to 320 and (x / 255 - 0.5) / 0.5, as float32 CHW: real photographs at the network input.
// The comparison needs the same input on both sides, not torchvision's exact resize.
const SCRIPT = `
import sys, numpy as np
from PIL import Image
for name in sys.argv[1:]:
    im = Image.open(f"/usr/lib/python3/dist-packages/skimage/data/{name}.png").convert("RGB").resize((320, 320), Image.BILINEAR)
    x = ((np.asarray(im, dtype=np.float32) / 255 - 0.5) / 0.5).transpose(2, 0, 1)
    sys.stdout.buffer.write(np.ascontiguousarray(x, dtype="<f4").tobytes())
`;

function photos(): Float32Array | string {
  const r = spawnSync(PYTHON, ['-c', SCRIPT, ...PHOTOS], { maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    const why = `${PYTHON} with PIL and skimage's photos: ${r.stderr?.toString().trim().split('\n').pop()}`;
    if (process.env.CI) throw new Error(`CI requires ${why}`);
    return why;
  }
  const out = new Float32Array(r.stdout.byteLength / 4);
  new Uint8Array(out.buffer).set(r.stdout);
  return out;
}

const images = photos();
describe.skipIf(typeof images === 'string')('ssdlite320-v3-large with its postprocessing in the graph', () => {
  it('equals the TypeScript postprocessing of its raw outputs on astronaut, coffee and chelsea (batch 3)', async () => {
    const raw = buildModel({ arch: 'ssdlite320-v3-large', batch: 'dynamic', weights: fanInFill(7) } as never).graph;
    const meta = readDetectionMetadata(raw.metadata, 'ssdlite')!;
    const withPost = withGraphPostprocess(raw);
    expect(readDetectionMetadata(withPost.metadata, 'ssdlite')?.postprocess).toBe('graph');
    const options = { intraOpNumThreads: 1, logSeverityLevel: 3 } as const;
    const postBytes = toOnnx(withPost);
    const [rawSession, postSession] = await Promise.all(
      [toOnnx(raw), postBytes].map((bytes) => ort.InferenceSession.create(bytes, options)),
    );
    const noOnnx = pythonOnnxMissing();
    if (noOnnx) console.warn(`onnx.checker skipped: ${noOnnx}`);
    else expect(onnxCheck({ ssdlite: postBytes })).toMatchObject([{ file: 'ssdlite', ok: true }]);
    const n = PHOTOS.length;
    const x = new ort.Tensor('float32', images as Float32Array, [n, 3, 320, 320]);
    const heads = await rawSession!.run({ images: x });
    const feeds = {
      images: x,
      score_threshold: new ort.Tensor('float32', Float32Array.of(meta.scoreThreshold), [1]),
      iou_threshold: new ort.Tensor('float32', Float32Array.of(meta.iouThreshold), [1]),
      max_detections: new ort.Tensor('int64', BigInt64Array.of(BigInt(meta.maxDetections)), [1]),
    };
    const g = await postSession!.run(feeds);
    await Promise.all([rawSession!.release(), postSession!.release()]);
    const anchors = defaultBoxes(meta.anchors, meta.grids, meta.inputSize);
    const a = anchors.length / 4;
    const c = heads.cls_logits!.dims[2]!;
    const rows = g.detection_scores!.dims[1]!;
    for (let i = 0; i < n; i++) {
      const deltas = (heads.bbox_regression!.data as Float32Array).slice(i * a * 4, (i + 1) * a * 4);
      const logits = (heads.cls_logits!.data as Float32Array).slice(i * a * c, (i + 1) * a * c);
      const ts = postprocessDetections(
        deltas,
        logits,
        { anchors, numClasses: c, inputSize: meta.inputSize },
        meta.inputSize,
      );
      const count = Number((g.detection_count!.data as BigInt64Array)[i]);
      const graph = imageDetections(
        {
          boxes: g.detection_boxes!.data as Float32Array,
          scores: g.detection_scores!.data as Float32Array,
          labels: g.detection_labels!.data as BigInt64Array,
          count: g.detection_count!.data as BigInt64Array,
          rows,
        },
        i,
      );
      const expected = {
        boxes: Array.from({ length: ts.scores.length }, (_, k) => Array.from(ts.boxes.subarray(k * 4, k * 4 + 4))),
        scores: Array.from(ts.scores),
        labels: Array.from(ts.labels),
      };
      // Scores within 2 ulps of 1 (6e-7 below): the two softmaxes may order them either way.
      const cmp = compareDetections(graph, expected, 6e-7);
      const reordered = graph.labels.filter((l, k) => l !== expected.labels[k]).length;
      console.log(
        `${PHOTOS[i]}: ${count} detections (scores ${graph.scores[0]} to ${graph.scores[count - 1]}), ${reordered} labels in another order among near-ties, min IoU ${cmp.minIou}, score error ${cmp.maxScoreError}`,
      );
      expect(count, PHOTOS[i]).toBe(ts.scores.length);
      expect(cmp.labelsEqual, PHOTOS[i]).toBe(true);
      expect(cmp.minIou, PHOTOS[i]).toBeGreaterThan(0.99);
      expect(cmp.maxScoreError, PHOTOS[i]).toBeLessThanOrEqual(1e-4);
    }
  });

  it('a graph without detection metadata, or with its postprocessing already in, is refused', () => {
    const b = new GraphBuilder('classifier');
    b.output(b.node('Identity', 'logits', [b.input('x', [1, 10]).name]));
    expect(() => withGraphPostprocess(b.build())).toThrow(/model 'classifier': expected a detection model/);
    const post = withGraphPostprocess(buildModel({ arch: 'ssdlite320-v3-large', weights: null } as never).graph);
    expect(() => withGraphPostprocess(post)).toThrow(/postprocessing already in the graph/);
  });
});
