import { describe, expect, it } from 'vitest';
import { MobileNetError } from '../ir/errors.js';
import {
  type DetectionMetadata,
  detectionMetadata,
  readDetectionMetadata,
  readSegmentationMetadata,
  segmentationMetadata,
} from './dense.js';

const SSD: DetectionMetadata = {
  kind: 'ssd',
  postprocess: 'none',
  inputSize: [320, 320],
  anchors: { aspectRatios: [[2, 3]], minRatio: 0.2, maxRatio: 0.95, clip: true },
  grids: [[20, 20]],
  boxCoderWeights: [10, 10, 5, 5],
  scoreThreshold: 0.001,
  iouThreshold: 0.55,
  topkCandidates: 300,
  maxDetections: 300,
};

const withField = (path: string[], value: unknown) => {
  const o = structuredClone(SSD) as unknown as Record<string, unknown>;
  let at = o;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[path.at(-1)!] = value;
  return { 'mobilenet.detection': JSON.stringify(o) };
};

describe('mobilenet.detection and mobilenet.segmentation: written, then read back checked', () => {
  it('round-trips, and a model without the key has none', () => {
    expect(readDetectionMetadata(detectionMetadata(SSD), 'm')).toEqual(SSD);
    expect(readDetectionMetadata({}, 'm')).toBeUndefined();
    const seg = { kind: 'segmentation', inputSize: [520, 520], output: 'out' } as const;
    expect(readSegmentationMetadata(segmentationMetadata(seg), 'm')).toEqual(seg);
  });

  it.each([
    [['kind'], 'faster-rcnn', '.kind: expected \'ssd\', received "faster-rcnn"'],
    [['postprocess'], 'maybe', ".postprocess: expected 'none' or 'graph', received \"maybe\""],
    [['inputSize'], [320], '.inputSize: expected a list of 2 to 2, received a list of 1'],
    [['grids'], [[20, 0]], '.grids[0][1]: expected an integer >= 1, received 0'],
    [
      ['anchors', 'aspectRatios'],
      [[2, 3], [2]],
      '.anchors.aspectRatios: expected a list of 1 to 1, received a list of 2',
    ],
    [['anchors', 'maxRatio'], 0.1, '.anchors.maxRatio: expected a number in [minRatio, 1], received 0.1'],
    [['boxCoderWeights'], [10, 10, 5, -5], '.boxCoderWeights[3]: expected a number above 0, received -5'],
    [['iouThreshold'], 1.5, '.iouThreshold: expected a number in [0, 1], received 1.5'],
    [['maxDetections'], 2.5, '.maxDetections: expected an integer >= 1, received 2.5'],
  ])('refuses %j = %j, naming the field', (path, value, message) => {
    expect(() => readDetectionMetadata(withField(path, value), "model 'x.onnx'")).toThrow(
      `model 'x.onnx': metadata 'mobilenet.detection'${message}`,
    );
  });

  it('refuses JSON that does not parse and a segmentation record without its output, as MobileNetErrors', () => {
    expect(() => readDetectionMetadata({ 'mobilenet.detection': '{' }, 'm')).toThrow(MobileNetError);
    expect(() =>
      readSegmentationMetadata({ 'mobilenet.segmentation': '{"kind":"segmentation","inputSize":[8,8]}' }, 'm'),
    ).toThrow("m: metadata 'mobilenet.segmentation'.output: expected an output name, received nothing");
  });
});
