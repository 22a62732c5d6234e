import { describe, expect, it } from 'vitest';
import { IMAGENET_LABELS } from '../data/imagenet-labels.js';
import { readConfig, weightsKind } from './config.js';
import { int8TargetOf } from './int8.js';
import { METADATA_KEYS, logitsOutput } from './keys.js';
import { modelLabels } from './labels.js';
import { preprocessingOf, readPreprocessing, torchvisionPreprocessing } from './preprocessing.js';
import { modelMetadata, precisionMetadata, weightsMetadata } from './write.js';

const config = {
  arch: 'v2',
  width: 1,
  resolution: 224,
  classes: 10,
  convention: 'torchvision',
  minimalistic: false,
  reducedTail: false,
  dilated: false,
  dropout: 0.2,
  bnEps: 1e-5,
  weights: 'seeded',
} as const;

describe('the metadata format', () => {
  it('what the writer writes, the readers read back', () => {
    const pre = torchvisionPreprocessing(224);
    const meta = modelMetadata(config, pre);
    expect(Object.keys(meta)).toEqual([METADATA_KEYS.config, METADATA_KEYS.preprocessing, METADATA_KEYS.labels]);
    expect(readConfig(meta, 'm.onnx')).toEqual(config);
    expect(weightsKind(readConfig(meta, 'm.onnx'))).toBe('seeded');
    expect(readPreprocessing(meta, "model 'm.onnx'")).toEqual(pre);
    expect(meta[METADATA_KEYS.labels]).toBe('custom');
    expect(modelMetadata({ ...config, classes: 1001 }, pre)[METADATA_KEYS.labels]).toBe('imagenet-1001');
    const int8 = precisionMetadata('int8', { target: 'vnni' });
    expect(int8[METADATA_KEYS.precision]).toBe('int8');
    expect(int8TargetOf(int8)).toBe('vnni');
    expect(int8TargetOf({ [METADATA_KEYS.int8]: '{' })).toBeUndefined();
    const trained = weightsMetadata(pre, { name: 'w' }, ['a', 'b']);
    expect(modelLabels(trained, 2, 'm.onnx')).toEqual(['a', 'b']);
  });

  it("labels: the model's own, else ImageNet's for 1000 or 1001 classes unless marked custom, else 'class N'", () => {
    expect(modelLabels({}, 1000, 'm')).toBe(IMAGENET_LABELS);
    expect(modelLabels({ [METADATA_KEYS.labels]: 'imagenet-1001' }, 1001, 'm')[0]).toBe('background');
    expect(modelLabels({ [METADATA_KEYS.labels]: 'custom' }, 1000, 'm')[0]).toBe('class 0');
    expect(modelLabels({}, 3, 'm')[2]).toBe('class 2');
  });

  it('bad values are refused naming the file and the key, never echoed', () => {
    expect(() => readConfig({ [METADATA_KEYS.config]: '{"a":' }, 'm.onnx')).toThrow(
      "m.onnx: metadata 'mobilenet.config': expected a JSON object, received invalid JSON (5 characters)",
    );
    expect(() => readConfig({ [METADATA_KEYS.config]: '[1]' }, 'm.onnx')).toThrow(
      "m.onnx: metadata 'mobilenet.config': expected a JSON object, received an array",
    );
    expect(readConfig({}, 'm.onnx')).toEqual({});
    expect(() => preprocessingOf({}, 'm.onnx', 'calibration')).toThrow(
      "model 'm.onnx': expected metadata 'mobilenet.preprocessing' (a model made by mobilenet-ts), received none",
    );
    expect(() => preprocessingOf({ [METADATA_KEYS.preprocessing]: '{}' }, 'm.onnx', 'calibration')).toThrow(
      "model 'm.onnx': metadata 'mobilenet.preprocessing'.mean: expected 3 finite numbers, received nothing",
    );
  });

  it("the class scores are the 'logits' output, else the first", () => {
    expect(logitsOutput([{ name: 'embedding' }, { name: 'logits' }])?.name).toBe('logits');
    expect(logitsOutput([{ name: 'prob' }, { name: 'x' }])?.name).toBe('prob');
    expect(logitsOutput([])).toBeUndefined();
  });
});
