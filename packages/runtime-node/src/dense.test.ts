// session.detect / session.segment and their folder pipelines on the contract's outputs (plan/contract-26.md),
// with small stand-in models built through the IR (@mobilenet/core/testing): the planted boxes come out where
// torchvision's anchors put them, in the original image's pixels; the pipeline's answers equal core's
// postprocessing run on onnxruntime's own outputs; bad options are usage errors naming the option.
import {
  defaultBoxes,
  postprocessDetections,
  preprocess,
  type RgbImage,
  resizeArgmax,
  SSDLITE_DEFAULT_BOXES,
  toOnnx,
  withGraphPostprocess,
} from '@mobilenet/core';
import { SSD_METADATA, tinyDetector, tinySegmenter } from '@mobilenet/core/testing';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createSession } from './index.js';

/** A w x h image whose colour depends on `seed` (a gradient, so the pooled colour differs per image). */
function picture(width: number, height: number, seed: number): RgbImage & { name: string } {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 7 + seed * 40) & 255;
      data[i + 1] = (y * 5 + seed * 90) & 255;
      data[i + 2] = (x + y + seed * 13) & 255;
    }
  return { name: `picture-${seed}-${width}x${height}`, data, width, height, channels: 3 };
}

const anchors = defaultBoxes(SSDLITE_DEFAULT_BOXES, SSD_METADATA.grids, SSD_METADATA.inputSize);

describe('session.detect', () => {
  it('finds the planted boxes: the anchors clipped to the input, scaled to the original image, best first', async () => {
    const planted = [
      { anchor: 5, label: 18, logit: 30 }, // a small box of the 20x20 map, partly outside the input
      { anchor: 3230, label: 1, logit: 29 }, // one of the 1x1 map's large boxes
    ];
    const session = await createSession({ graph: tinyDetector({ planted: { boxes: planted } }) });
    expect(session.info.taskOutputs.detect).toEqual(['bbox_regression', 'cls_logits']);
    const [r] = await session.detect([picture(640, 480, 1)]);
    if (!r?.ok) throw new Error(String(r && !r.ok && r.error));
    expect(r.detections.map((d) => [d.label, d.labelIndex])).toEqual([
      ['dog', 18],
      ['person', 1],
    ]);
    for (const [k, p] of planted.entries()) {
      const clip = (v: number) => Math.min(320, Math.max(0, v));
      const a = Array.from(anchors.subarray(p.anchor * 4, p.anchor * 4 + 4), clip);
      const want = [a[0]! * 2, a[1]! * 1.5, a[2]! * 2, a[3]! * 1.5];
      r.detections[k]!.box.forEach((v, i) => {
        expect(v).toBeCloseTo(want[i]!, 3);
      });
      // softmax of (20 background, the planted logit, 89 zeros)
      const score = Math.exp(p.logit) / (Math.exp(p.logit) + Math.exp(20) + 89);
      expect(r.detections[k]!.score).toBeCloseTo(score, 6);
    }
    await session.release();
  });

  it("equals core's postprocessing of onnxruntime's raw outputs, per image size, batched or not", async () => {
    const graph = tinyDetector({ seed: 3 });
    const session = await createSession({ graph }, { maxBatch: 2 });
    const images = [picture(320, 320, 0), picture(500, 200, 1), picture(90, 260, 2)];
    const options = { scoreThreshold: 0.2, iouThreshold: 0.5, maxDetections: 50 };
    const all = await session.detect(images, options);
    const streamed = [];
    for await (const r of session.detectAll(images, { ...options, batch: 2 })) streamed.push(r);
    expect(streamed).toEqual(all);
    const ortSession = await ort.InferenceSession.create(toOnnx(graph));
    for (const [i, img] of images.entries()) {
      const x = preprocess(img, session.info.preprocessing);
      const out = await ortSession.run({ images: new ort.Tensor('float32', x, [1, 3, 320, 320]) });
      const want = postprocessDetections(
        out.bbox_regression!.data as Float32Array,
        out.cls_logits!.data as Float32Array,
        { anchors, numClasses: 91, inputSize: [320, 320] },
        [img.height, img.width],
        options,
      );
      const r = all[i]!;
      if (!r.ok) throw new Error(r.error);
      expect(r.detections.length).toBe(want.scores.length);
      expect(r.detections.length).toBeGreaterThan(0);
      expect(r.detections.map((d) => d.labelIndex)).toEqual(Array.from(want.labels));
      expect(r.detections.flatMap((d) => d.box)).toEqual(Array.from(want.boxes));
      expect(r.detections.map((d) => d.score)).toEqual(Array.from(want.scores));
      for (const d of r.detections) {
        expect(d.box[2]).toBeLessThanOrEqual(img.width + 1e-3);
        expect(d.box[3]).toBeLessThanOrEqual(img.height + 1e-3);
      }
    }
    await ortSession.release();
    // Thresholds at run time: fewer boxes as the score threshold rises, at most maxDetections.
    const counts = [];
    for (const scoreThreshold of [0.05, 0.2, 0.6]) {
      const [r] = await session.detect([images[0]!], { scoreThreshold, maxDetections: 300 });
      counts.push(r?.ok ? r.detections.length : -1);
    }
    expect(counts[0]).toBeGreaterThanOrEqual(counts[1]!);
    expect(counts[1]).toBeGreaterThanOrEqual(counts[2]!);
    const [few] = await session.detect([images[0]!], { scoreThreshold: 0.05, maxDetections: 3 });
    expect(few?.ok && few.detections.length).toBe(3);
    await session.release();
  });

  it('refuses a threshold outside [0, 1] by naming the option, and a classifier question on a detector', async () => {
    const session = await createSession({ graph: tinyDetector({ seed: 1 }) });
    const img = [picture(32, 32, 0)];
    await expect(session.detect(img, { scoreThreshold: 1.5 })).rejects.toThrow('option scoreThreshold');
    await expect(session.detect(img, { iouThreshold: -0.1 })).rejects.toThrow('option iouThreshold');
    await expect(session.detect(img, { maxDetections: 0 })).rejects.toThrow('option maxDetections');
    await expect(session.classify(img)).rejects.toThrow('a logits output of shape [N, classes]');
    await expect(session.segment(img)).rejects.toThrow("an 'out' output");
    await session.release();
  });
});

describe('session.detect on a file that ends in its own NMS (export --postprocess graph)', () => {
  it("gives the TypeScript postprocessing's boxes, with thresholds fed at run time", async () => {
    const raw = tinyDetector({ seed: 3 });
    const [ts, graph] = [
      await createSession({ graph: raw }),
      await createSession({ graph: withGraphPostprocess(raw) }),
    ];
    expect(graph.info.taskOutputs.detect).toEqual([
      'detection_boxes',
      'detection_scores',
      'detection_labels',
      'detection_count',
    ]);
    const images = [picture(500, 200, 1), picture(90, 260, 2)];
    for (const options of [{ scoreThreshold: 0.2, iouThreshold: 0.5, maxDetections: 50 }, { scoreThreshold: 0.6 }]) {
      const [a, b] = [await ts.detect(images, options), await graph.detect(images, options)];
      for (const [i, r] of a.entries()) {
        const g = b[i]!;
        if (!r.ok || !g.ok) throw new Error('a detection failed');
        expect(g.detections.length).toBe(r.detections.length);
        expect(g.detections.map((d) => d.labelIndex)).toEqual(r.detections.map((d) => d.labelIndex));
        for (const [k, d] of g.detections.entries()) {
          expect(d.score).toBeCloseTo(r.detections[k]!.score, 5);
          for (const [j, v] of d.box.entries()) expect(Math.abs(v - r.detections[k]!.box[j]!)).toBeLessThan(0.05);
        }
      }
    }
    await expect(graph.detect(images, { scoreThreshold: 7 })).rejects.toThrow('option scoreThreshold');
    await Promise.all([ts.release(), graph.release()]);
  });
});

describe('session.segment', () => {
  it("gives a class per pixel at the image's size: onnxruntime's logits resized and argmaxed", async () => {
    const graph = tinySegmenter({ resolution: 64, seed: 2 });
    const session = await createSession({ graph });
    expect(session.info.labels[15]).toBe('person');
    const images = [picture(100, 70, 0), picture(40, 90, 1)];
    const results = await session.segment(images, { probabilities: true });
    const ortSession = await ort.InferenceSession.create(toOnnx(graph));
    for (const [i, img] of images.entries()) {
      const r = results[i]!;
      if (!r.ok) throw new Error(r.error);
      expect([r.mask.width, r.mask.height]).toEqual([img.width, img.height]);
      const x = preprocess(img, session.info.preprocessing);
      const out = await ortSession.run({ images: new ort.Tensor('float32', x, [1, 3, 64, 64]) });
      const want = resizeArgmax(out.out!.data as Float32Array, 21, 64, 64, img.height, img.width);
      expect(r.mask.classes).toEqual(want);
      expect(new Set(r.mask.classes).size).toBeGreaterThan(1);
      const p = r.probabilities!;
      const n = img.width * img.height;
      expect(p.length).toBe(21 * n);
      for (const px of [0, n >> 1, n - 1]) {
        let sum = 0;
        let best = 0;
        for (let c = 0; c < 21; c++) {
          sum += p[c * n + px]!;
          if (p[c * n + px]! > p[best * n + px]!) best = c;
        }
        expect(sum).toBeCloseTo(1, 5);
        expect(best).toBe(r.mask.classes[px]);
      }
    }
    await ortSession.release();
    const streamed = [];
    for await (const r of session.segmentAll(images)) streamed.push(r);
    expect(streamed.map((r) => r.ok && r.mask.classes)).toEqual(results.map((r) => r.ok && r.mask.classes));
    expect(streamed[0]).not.toHaveProperty('probabilities');
    await session.release();
  });
});
