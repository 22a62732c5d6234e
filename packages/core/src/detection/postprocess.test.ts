import { describe, expect, it } from 'vitest';
import { type F32Record, f32, type HeadInputs, headOutputs, readFixture } from '../../test/fixtures/detection/read.js';
import { defaultBoxes, SSDLITE_DEFAULT_BOXES, SSDLITE320_GRIDS, SSDLITE320_INPUT_SIZE } from './anchors.js';
import { clipBoxes, decodeBoxes } from './box-coder.js';
import {
  type DetectionLayout,
  postprocessDetections,
  resolveDetectionOptions,
  SSD_IOU_THRESHOLD,
  SSD_MAX_DETECTIONS,
  SSD_SCORE_THRESHOLD,
  SSD_TOPK_CANDIDATES,
} from './postprocess.js';

interface PostprocessCase {
  inputs: HeadInputs;
  originalSize: [number, number];
  options: { scoreThresh: number; nmsThresh: number; topkCandidates: number; detectionsPerImg: number };
  probe: { logits: F32Record; deltas: F32Record; logitsSum: number; deltasSum: number };
  candidates: number;
  boxes: F32Record;
  scores: F32Record;
  labels: number[];
}

const { data, missing } = readFixture<{ numAnchors: number; cases: Record<string, PostprocessCase> }>(
  'postprocess.json',
);
if (missing) console.warn(`postprocess.test.ts skipped: ${missing}`);

const layout: DetectionLayout = {
  anchors: defaultBoxes(SSDLITE_DEFAULT_BOXES, SSDLITE320_GRIDS, SSDLITE320_INPUT_SIZE),
  numClasses: 91,
  inputSize: [320, 320],
};

/** Sum of the finite values, in float64 (the fixture's probe of the regenerated inputs). */
const finiteSum = (a: Float32Array) => a.reduce((s, v) => (Number.isFinite(v) ? s + v : s), 0);

/** |a - b| / max(1, |b|); 0 when both are NaN, Infinity when only one is. */
function relError(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Number.POSITIVE_INFINITY;
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

describe.skipIf(missing !== null)(
  'SSD postprocess_detections against torchvision (fixtures/detection/postprocess.json)',
  () => {
    it("torchvision's defaults are the named constants", () => {
      expect([SSD_SCORE_THRESHOLD, SSD_IOU_THRESHOLD, SSD_TOPK_CANDIDATES, SSD_MAX_DETECTIONS]).toEqual([
        0.001, 0.55, 300, 300,
      ]);
    });

    it('the regenerated head outputs are the fixture script’s, bit for bit', () => {
      for (const [name, c] of Object.entries(data?.cases ?? {})) {
        const { logits, deltas } = headOutputs(c.inputs, data?.numAnchors ?? 0);
        expect(Array.from(logits.subarray(0, 182)), name).toEqual(Array.from(f32(c.probe.logits)));
        expect(Array.from(deltas.subarray(0, 8)), name).toEqual(Array.from(f32(c.probe.deltas)));
        expect(finiteSum(logits), name).toBeCloseTo(c.probe.logitsSum, 3);
        expect(finiteSum(deltas), name).toBeCloseTo(c.probe.deltasSum, 3);
      }
    });

    it('every case: identical labels, boxes to 1e-4, scores to 1e-5 (NaN boxes where torchvision has them)', () => {
      const worst = { box: 0, score: 0 };
      for (const [name, c] of Object.entries(data?.cases ?? {})) {
        const { logits, deltas } = headOutputs(c.inputs, data?.numAnchors ?? 0);
        const ours = postprocessDetections(deltas, logits, layout, c.originalSize, {
          scoreThreshold: c.options.scoreThresh,
          iouThreshold: c.options.nmsThresh,
          topkCandidates: c.options.topkCandidates,
          maxDetections: c.options.detectionsPerImg,
        });
        const boxes = f32(c.boxes);
        const scores = f32(c.scores);
        expect(Array.from(ours.labels), `${name}: labels`).toEqual(c.labels);
        let box = 0;
        let pixels = 0;
        let score = 0;
        for (let i = 0; i < boxes.length; i++) {
          box = Math.max(box, relError(ours.boxes[i]!, boxes[i]!));
          if (Number.isFinite(boxes[i]!)) pixels = Math.max(pixels, Math.abs(ours.boxes[i]! - boxes[i]!));
        }
        for (let i = 0; i < scores.length; i++) score = Math.max(score, Math.abs(ours.scores[i]! - scores[i]!));
        console.log(
          `${name}: ${c.candidates} candidates, ${c.labels.length} detections, box error ${box} (${pixels} px), score error ${score}`,
        );
        expect(box, `${name}: boxes`).toBeLessThanOrEqual(1e-4);
        expect(score, `${name}: scores`).toBeLessThanOrEqual(1e-5);
        worst.box = Math.max(worst.box, box);
        worst.score = Math.max(worst.score, score);
      }
      console.log(`postprocess worst: box ${worst.box}, score ${worst.score}`);
    });
  },
);

describe('options and shapes', () => {
  it('a threshold outside [0, 1] (or NaN) is a usage error that names the option', () => {
    expect(() => resolveDetectionOptions({ scoreThreshold: 1.5 })).toThrow(
      /option scoreThreshold: expected a number in \[0, 1\], received 1.5/,
    );
    expect(() => resolveDetectionOptions({ iouThreshold: -0.1 })).toThrow(/option iouThreshold/);
    expect(() => resolveDetectionOptions({ iouThreshold: Number.NaN })).toThrow(/option iouThreshold/);
    expect(() => resolveDetectionOptions({ maxDetections: 0 })).toThrow(
      /option maxDetections: expected a positive integer/,
    );
    expect(() => resolveDetectionOptions({ topkCandidates: 2.5 })).toThrow(/option topkCandidates/);
    expect(resolveDetectionOptions({ scoreThreshold: 0, iouThreshold: 1 })).toEqual({
      scoreThreshold: 0,
      iouThreshold: 1,
      topkCandidates: 300,
      maxDetections: 300,
    });
  });

  it('head outputs that do not match the anchors are a shape error', () => {
    const n = layout.anchors.length / 4;
    expect(() => postprocessDetections(new Float32Array(4), new Float32Array(n * 91), layout, [320, 320])).toThrow(
      /bbox_regression: expected 3234 x 4/,
    );
    expect(() => postprocessDetections(new Float32Array(n * 4), new Float32Array(n * 90), layout, [320, 320])).toThrow(
      /cls_logits: expected 3234 x 91/,
    );
  });

  it('an image size that is not two positive numbers is a usage error', () => {
    const n = layout.anchors.length / 4;
    const run = (size: [number, number]) => () =>
      postprocessDetections(new Float32Array(n * 4), new Float32Array(n * 91), layout, size);
    expect(run([0, 640])).toThrow(/originalSize: expected \[height, width\] in pixels/);
    expect(run([480, Number.NaN])).toThrow(/originalSize/);
    expect(run([480, 640])).not.toThrow();
  });

  it('a decoded box with zero deltas is its anchor, clipped to the input', () => {
    const anchors = Float32Array.from([-10, 20, 30, 60, 300, 300, 340, 330]);
    const boxes = clipBoxes(decodeBoxes(new Float32Array(8), anchors), 320, 320);
    expect(Array.from(boxes)).toEqual([0, 20, 30, 60, 300, 300, 320, 320]);
  });
});
