// `export --postprocess graph|none` on the real SSDLite320 graph: the graph's postprocessing in onnxruntime-node
// equals core/detection's TypeScript postprocessing (checked against torchvision there) on the raw outputs of the
// file exported with the same weights, on skimage's photographs; and the flag's refusals.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  defaultBoxes,
  fromOnnx,
  postprocessDetections,
  preprocess,
  readDetectionMetadata,
  readPreprocessing,
} from '@mobilenet/core';
import { decodeImage } from '@mobilenet/runtime-node';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanTmp, run, tmp } from '../test/testing.js';

const SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data';
const PHOTOS = ['astronaut', 'coffee', 'chelsea'].map((p) => join(SKIMAGE, `${p}.png`));
const noPhotos = PHOTOS.some((p) => !existsSync(p)) ? `skimage's photos missing under ${SKIMAGE}` : null;
if (noPhotos && process.env.CI) throw new Error(`CI requires python3-skimage: ${noPhotos}`);
afterAll(cleanTmp);
ort.env.logLevel = 'error';

function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  const inter = Math.max(0, w) * Math.max(0, h);
  const area = (x: ArrayLike<number>) => (x[2]! - x[0]!) * (x[3]! - x[1]!);
  return inter / (area(a) + area(b) - inter);
}

describe.skipIf(noPhotos !== null)('export --postprocess graph on ssdlite320-v3-large', () => {
  it('graph postprocessing = TypeScript postprocessing of the raw file, on astronaut, coffee and chelsea', async () => {
    const dir = tmp();
    const files = { graph: join(dir, 'graph.onnx'), none: join(dir, 'none.onnx') };
    for (const [mode, file] of Object.entries(files)) {
      const r = await run('export', '--arch', 'ssdlite320-v3-large', '--postprocess', mode, '-o', file);
      expect(r.code, r.err).toBe(0);
    }
    const raw = fromOnnx(readFileSync(files.none), 'none.onnx').graph;
    const meta = readDetectionMetadata(raw.metadata, 'none.onnx')!;
    const graphMeta = readDetectionMetadata(fromOnnx(readFileSync(files.graph)).graph.metadata, 'graph.onnx')!;
    expect([meta.postprocess, graphMeta.postprocess]).toEqual(['none', 'graph']);
    const pre = readPreprocessing(raw.metadata, 'none.onnx')!;
    const layout = {
      anchors: defaultBoxes(meta.anchors, meta.grids, meta.inputSize),
      numClasses: 91,
      inputSize: meta.inputSize,
    };
    const [noneSession, graphSession] = await Promise.all(
      [files.none, files.graph].map((f) => ort.InferenceSession.create(f, { intraOpNumThreads: 1 })),
    );
    try {
      for (const photo of PHOTOS) {
        const x = new ort.Tensor('float32', preprocess(await decodeImage(photo, photo), pre), [1, 3, 320, 320]);
        const heads = await noneSession!.run({ images: x });
        const ts = postprocessDetections(
          heads.bbox_regression!.data as Float32Array,
          heads.cls_logits!.data as Float32Array,
          layout,
          meta.inputSize,
        );
        const g = await graphSession!.run({
          images: x,
          score_threshold: new ort.Tensor('float32', Float32Array.of(meta.scoreThreshold), [1]),
          iou_threshold: new ort.Tensor('float32', Float32Array.of(meta.iouThreshold), [1]),
          max_detections: new ort.Tensor('int64', BigInt64Array.of(BigInt(meta.maxDetections)), [1]),
        });
        const count = Number((g.detection_count!.data as BigInt64Array)[0]);
        const labels = Array.from((g.detection_labels!.data as BigInt64Array).subarray(0, count), Number);
        const scores = g.detection_scores!.data as Float32Array;
        const boxes = g.detection_boxes!.data as Float32Array;
        let minIou = 1;
        let scoreError = 0;
        for (let i = 0; i < count; i++) {
          minIou = Math.min(minIou, iou(boxes.subarray(i * 4, i * 4 + 4), ts.boxes.subarray(i * 4, i * 4 + 4)));
          scoreError = Math.max(scoreError, Math.abs(scores[i]! - ts.scores[i]!));
        }
        console.log(`${photo}: ${count} detections, min IoU ${minIou}, score error ${scoreError}`);
        expect(labels, photo).toEqual(Array.from(ts.labels));
        expect(minIou, photo).toBeGreaterThan(0.99);
        expect(scoreError, photo).toBeLessThanOrEqual(1e-4);
      }
    } finally {
      await Promise.all([noneSession!.release(), graphSession!.release()]);
    }
  });
});

describe('export --postprocess refusals', () => {
  it('names the option and what it needs', async () => {
    const out = join(tmp(), 'x.onnx');
    const cases: [string[], RegExp][] = [
      [
        ['--arch', 'v3-small'],
        /--postprocess: expected --arch ssdlite320-v3-large \(a detection model\), received --arch v3-small/,
      ],
      [
        ['--arch', 'ssdlite320-v3-large', '--postprocess', 'yes'],
        /--postprocess: expected graph or none, received 'yes'/,
      ],
      [['--arch', 'ssdlite320-v3-large', '--target', 'opencv'], /--postprocess: expected none with --target opencv/],
    ];
    for (const [args, message] of cases) {
      const argv = args.includes('--postprocess') ? args : [...args, '--postprocess', 'graph'];
      const r = await run('export', ...argv, '-o', out);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(message);
      expect(existsSync(out)).toBe(false);
    }
  });
});
