// The detection and segmentation models without torch: their state_dict keys and shapes against torchvision's
// record (fixtures/detection/models.json, written by tools/fixtures/torchvision_detection.py), the contract's
// outputs and metadata, option rules, and the ONNX round trip. dense-fidelity.test.ts compares their numbers.
import { describe, expect, it } from 'vitest';
import { analyze } from '../analysis.js';
import { readFixture } from '../../test/fixtures/detection/read.js';
import { SSDLITE320_GRIDS, SSDLITE_DEFAULT_BOXES, defaultBoxes } from '../detection/anchors.js';
import { COCO_CATEGORIES, VOC_CATEGORIES } from '../detection/categories.js';
import { OptionError } from '../ir/errors.js';
import { OPS } from '../ir/ops.js';
import { readDetectionMetadata, readSegmentationMetadata } from '../metadata/dense.js';
import { METADATA_KEYS } from '../metadata/keys.js';
import { readConfig } from '../metadata/config.js';
import { fromOnnx } from '../onnx/read.js';
import { toOnnx } from '../onnx/write.js';
import { buildModel } from './build.js';
import type { ModelOptions } from './options.js';

interface ModelRecord {
  keys: [string, number[]][];
  params: number;
}
const { data, missing } = readFixture<Record<string, ModelRecord>>('models.json');

const CASES: [string, ModelOptions, number][] = [
  ['ssdlite320_mobilenet_v3_large', { arch: 'ssdlite320-v3-large' }, 3_440_060],
  ['lraspp_mobilenet_v3_large', { arch: 'lraspp-v3-large' }, 3_221_538],
  ['deeplabv3_mobilenet_v3_large', { arch: 'deeplabv3-v3-large', aux: true }, 11_029_328],
  ['deeplabv3_mobilenet_v3_large_noaux', { arch: 'deeplabv3-v3-large' }, 11_025_477],
];

/** Our parameters and BN statistics in graph order, as `name shape` (Resize scales, Reshape shapes and Clip bounds are not modules). */
function stateDict(o: ModelOptions): string[] {
  const { graph } = buildModel({ ...o, weights: null });
  const owned = new Set(
    graph.nodes.flatMap((n) => n.inputs.filter((_, i) => OPS[n.op]!.roles?.[i] && OPS[n.op]!.roles![i] !== 'const')),
  );
  return graph.initializers.filter((i) => owned.has(i.name)).map((i) => `${i.name} [${i.dims.join(', ')}]`);
}

describe.skipIf(missing !== null)('state_dict keys and shapes are torchvision 0.14 own, in order', () => {
  it.each(CASES)('%s (%j): %i parameters', (name, options, params) => {
    const theirs = data!
      [name]!.keys.filter(([k]) => !k.endsWith('num_batches_tracked'))
      .map(([k, shape]) => `${k} [${shape.join(', ')}]`);
    expect(stateDict(options)).toEqual(theirs);
    expect(analyze(buildModel({ ...options, weights: null }).graph).params).toBe(params);
  });
});

describe('the contract of issue 26: inputs, outputs, metadata', () => {
  it("SSDLite320: input 'images', raw outputs of 3,234 rows in the anchors' order, mobilenet.detection", () => {
    const { graph, config } = buildModel({ arch: 'ssdlite320-v3-large', weights: null });
    expect(config.convention).toBe('torchvision');
    expect(graph.inputs.map((v) => [v.name, v.type.shape])).toEqual([['images', [1, 3, 320, 320]]]);
    expect(graph.outputs.map((v) => [v.name, v.type.shape])).toEqual([
      ['bbox_regression', [1, 3234, 4]],
      ['cls_logits', [1, 3234, 91]],
    ]);
    const meta = readDetectionMetadata(graph.metadata, 'ssdlite')!;
    expect(meta).toEqual({
      kind: 'ssd',
      postprocess: 'none',
      inputSize: [320, 320],
      anchors: { aspectRatios: Array.from({ length: 6 }, () => [2, 3]), minRatio: 0.2, maxRatio: 0.95, clip: true },
      grids: SSDLITE320_GRIDS,
      boxCoderWeights: [10, 10, 5, 5],
      scoreThreshold: 0.001,
      iouThreshold: 0.55,
      topkCandidates: 300,
      maxDetections: 300,
    });
    // The anchors the runtime rebuilds from the metadata are one per output row.
    expect(defaultBoxes(meta.anchors, meta.grids, meta.inputSize).length / 4).toBe(3234);
    expect(defaultBoxes(SSDLITE_DEFAULT_BOXES, meta.grids, meta.inputSize)).toEqual(
      defaultBoxes(meta.anchors, meta.grids, meta.inputSize),
    );
    expect(JSON.parse(graph.metadata[METADATA_KEYS.labels]!)).toEqual(COCO_CATEGORIES);
    expect(JSON.parse(graph.metadata[METADATA_KEYS.preprocessing]!)).toEqual({
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      resizeMode: 'squash',
      resize: 320,
      size: 320,
      interpolation: 'bilinear',
    });
  });

  it('custom classes: SSDLite with 3 classes has 3 logit columns and no COCO names', () => {
    const { graph } = buildModel({ arch: 'ssdlite320-v3-large', classes: 3, weights: null });
    expect(graph.outputs[1]!.type.shape).toEqual([1, 3234, 3]);
    expect(graph.metadata[METADATA_KEYS.labels]).toBe('custom');
  });

  it.each([
    ['lraspp-v3-large', {}, ['out']],
    ['deeplabv3-v3-large', {}, ['out']],
    ['deeplabv3-v3-large', { aux: true }, ['out', 'aux']],
  ] as const)('%s %j: outputs %j at the input size, mobilenet.segmentation, VOC names', (arch, extra, outs) => {
    const { graph } = buildModel({ arch, ...extra, resolution: 256, weights: null });
    expect(graph.inputs[0]!.name).toBe('images');
    expect(graph.outputs.map((v) => [v.name, v.type.shape])).toEqual(outs.map((o) => [o, [1, 21, 256, 256]]));
    expect(readSegmentationMetadata(graph.metadata, arch)).toEqual({
      kind: 'segmentation',
      inputSize: [256, 256],
      output: 'out',
      ...('aux' in extra && { aux: true }),
    });
    expect(JSON.parse(graph.metadata[METADATA_KEYS.labels]!)).toEqual(VOC_CATEGORIES);
    expect(readConfig(graph.metadata, arch)).toMatchObject({ arch, resolution: 256, classes: 21, ...extra });
    const pre = JSON.parse(graph.metadata[METADATA_KEYS.preprocessing]!);
    expect(pre).toEqual({
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      resizeMode: 'squash',
      resize: 256,
      size: 256,
      interpolation: 'bilinear',
    });
  });

  it('the default segmentation input is 520 (not a multiple of 32: stride 16 gives 33 x 33, as in torchvision)', () => {
    const { graph } = buildModel({ arch: 'lraspp-v3-large', weights: null });
    expect(graph.outputs[0]!.type.shape).toEqual([1, 21, 520, 520]);
    expect(graph.values.find((v) => v.name === 'classifier.gate')!.type.shape).toEqual([1, 128, 33, 33]);
  });
});

describe('option rules', () => {
  const error = (o: ModelOptions) => {
    try {
      buildModel({ ...o, weights: null });
    } catch (e) {
      return e instanceof OptionError ? e.message : `not an OptionError: ${e}`;
    }
    return 'no error';
  };
  it('SSDLite320 takes only 320; segmentation any size from 32; classifiers multiples of 32', () => {
    expect(error({ arch: 'ssdlite320-v3-large', resolution: 512 })).toBe(
      "option resolution: expected 320 (SSDLite320's fixed input), received 512",
    );
    expect(error({ arch: 'lraspp-v3-large', resolution: 16 })).toMatch(
      /option resolution: expected an integer from 32/,
    );
    expect(error({ arch: 'lraspp-v3-large', resolution: 100 })).toBe('no error');
    expect(error({ arch: 'v2', resolution: 100 })).toBe(
      'option resolution: expected a multiple of 32, at least 32, received 100',
    );
  });
  it('aux belongs to DeepLabV3; a classifier option to the classifiers', () => {
    expect(error({ arch: 'lraspp-v3-large', aux: true })).toBe(
      "option aux: expected to be used with deeplabv3-v3-large only, received 'true with lraspp-v3-large'",
    );
    expect(error({ arch: 'ssdlite320-v3-large', reducedTail: true })).toMatch(
      /option reduced-tail: expected to be used with v3-large or v3-small only/,
    );
  });
});

describe('ONNX', () => {
  it('Resize and Concat survive a write and a read, with a dynamic batch', () => {
    const { graph } = buildModel({ arch: 'deeplabv3-v3-large', resolution: 96, weights: 1 });
    const back = fromOnnx(toOnnx(graph, { batch: 'dynamic' }), 'deeplab.onnx').graph;
    expect(back.outputs.map((v) => v.type.shape)).toEqual([['batch', 21, 96, 96]]);
    const ops = (g: typeof graph) => g.nodes.filter((n) => n.op === 'Resize' || n.op === 'Concat');
    expect(ops(back).map((n) => [n.name, n.op, n.attrs])).toEqual(ops(graph).map((n) => [n.name, n.op, n.attrs]));
    expect(analyze(back).macs).toBe(analyze(graph).macs);
  });
});
