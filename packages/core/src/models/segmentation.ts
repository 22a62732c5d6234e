// The segmentation models torchvision 0.14 builds on MobileNetV3-Large with `dilated=True` (output stride 16):
// `lraspp_mobilenet_v3_large` (segmentation/lraspp.py) and `deeplabv3_mobilenet_v3_large` (segmentation/
// deeplabv3.py, fcn.py for the aux head), with weights=None, weights_backbone=None. Names are their state_dict
// keys: the backbone as IntermediateLayerGetter keeps it (`backbone.{i}`), then `classifier` (and `aux_classifier`).
import { VOC_CATEGORIES } from '../detection/categories.js';
import type { Value } from '../ir/tensor.js';
import { segmentationMetadata } from '../metadata/dense.js';
import { LABELS_KEY } from '../metadata/keys.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../metadata/preprocessing.js';
import type { ConventionBase, DenseTask, Family, FamilyOptionValue, Net, ResolvedConfig } from './contract.js';
import { concat, convBias, convBnActAt, resizeBilinear, sigmoid, spatial } from './dense-layers.js';
import { defineFamily } from './family.js';
import { type V3Names, V3_CONVENTION, mobilenetV3Body, v3StageIndices } from './v3.js';

/** torchvision's evaluation size for these models (`SemanticSegmentation(resize_size=520)`): our default input. */
export const SEGMENTATION_RESOLUTION = 520;

/** The taps (stage_indices): "low" / "aux" is C2 (40 channels, stride 8), "high" / "out" is C5 (960, stride 16). */
const STAGES = v3StageIndices('v3-large');
const C2 = STAGES.at(-4)!;
const C5 = STAGES.at(-1)!;

/** LRASPP's head (LRASPPHead): its intermediate width. */
export const LRASPP_INTER = 128;

/** DeepLabV3's ASPP (DeepLabHead): the atrous rates of its 3x3 branches and the width of every branch. */
export const ASPP = { rates: [12, 24, 36], channels: 256 } as const;

const BACKBONE: V3Names = {
  layer: (i) => ({ name: `backbone.${i}`, sub: (j) => `backbone.${i}.block.${j}`, add: `backbone.${i}.add` }),
};

/** The dilated MobileNetV3-Large body; returns each `backbone.{i}` output. */
function backbone(net: Net, input: Value): readonly Value[] {
  const options = { minimalistic: false, reducedTail: false, dilated: true };
  return mobilenetV3Body(net, input, V3_CONVENTION.torchvision, 'v3-large', options, BACKBONE).features;
}

/** Conv (no bias) + BN (eps 1e-5) + ReLU at `${name}.{i}`, `.{i + 1}`, `.{i + 2}`: nn.Sequential's numbering. */
function cbr(net: Net, x: Value, name: string, o: { out: number; kernel: number; dilation?: number }, i = 0): Value {
  const at = (k: number) => `${name}.${i + k}`;
  return convBnActAt(net, x, { conv: at(0), bn: at(1), act: at(2) }, { ...o, act: 'relu' });
}

/** Upsampling to the input size and naming the output ('out', 'aux'), as `F.interpolate` ends both models. */
function upsampled(net: Net, x: Value, input: Value, output: string): Value {
  return net.b.output(net.b.rename(resizeBilinear(net, x, `${output}.upsample`, spatial(input)), output));
}

/** LRASPPHead: main branch x sigmoid gate, upsampled to C2's size, plus both classifiers; then to the input size. */
function buildLraspp(net: Net, input: Value): void {
  const features = backbone(net, input);
  const [low, high] = [features[C2]!, features[C5]!];
  const { b, cfg } = net;
  const x = cbr(net, high, 'classifier.cbr', { out: LRASPP_INTER, kernel: 1 });
  const pooled = b.globalAveragePool(high, 'classifier.scale.0');
  const gate = sigmoid(
    net,
    b.conv(pooled, 'classifier.scale.1', { out: LRASPP_INTER, kernel: 1 }),
    'classifier.scale.2',
  );
  const up = resizeBilinear(net, b.mul(x, gate, 'classifier.gate'), 'classifier.upsample', spatial(low));
  const lowLogits = convBias(net, low, 'classifier.low_classifier', { out: cfg.classes, kernel: 1 });
  const highLogits = convBias(net, up, 'classifier.high_classifier', { out: cfg.classes, kernel: 1 });
  upsampled(net, b.add(lowLogits, highLogits, 'classifier.sum'), input, 'out');
}

/** ASPP: a 1x1 branch, one 3x3 branch per rate, image pooling; concatenated, then projected (Dropout: identity). */
function aspp(net: Net, x: Value, name: string): Value {
  const out = ASPP.channels;
  const branches = [cbr(net, x, `${name}.convs.0`, { out, kernel: 1 })];
  ASPP.rates.forEach((rate, k) => {
    branches.push(cbr(net, x, `${name}.convs.${k + 1}`, { out, kernel: 3, dilation: rate }));
  });
  const pool = `${name}.convs.${ASPP.rates.length + 1}`;
  const pooled = cbr(net, net.b.globalAveragePool(x, `${pool}.0`), pool, { out, kernel: 1 }, 1);
  branches.push(resizeBilinear(net, pooled, `${pool}.upsample`, spatial(x)));
  return cbr(net, concat(net, branches, `${name}.cat`, 1), `${name}.project`, { out, kernel: 1 });
}

/** DeepLabHead on C5, and with `aux` FCNHead on C2 (in / 4 channels, Dropout: identity). */
function buildDeeplab(net: Net, input: Value, aux: boolean): void {
  const features = backbone(net, input);
  const { cfg } = net;
  let x = aspp(net, features[C5]!, 'classifier.0');
  x = cbr(net, x, 'classifier', { out: ASPP.channels, kernel: 3 }, 1);
  upsampled(net, convBias(net, x, 'classifier.4', { out: cfg.classes, kernel: 1 }), input, 'out');
  if (!aux) return;
  const low = features[C2]!;
  const y = cbr(net, low, 'aux_classifier', { out: (low.type.shape[1] as number) >> 2, kernel: 3 });
  upsampled(net, convBias(net, y, 'aux_classifier.4', { out: cfg.classes, kernel: 1 }), input, 'aux');
}

/**
 * Their one convention, torchvision's: 21 VOC classes, BN eps 0.001 in the backbone (the heads' own BatchNorm2d
 * keep 1e-5), ImageNet's mean and std. torchvision's eval transform resizes the short side to 520; we take a fixed
 * square input (one file, static shapes) and the runtime maps the mask back to the image.
 */
const convention = <A extends string>(): ConventionBase<A> => ({
  classes: VOC_CATEGORIES.length,
  bnEps: 1e-3,
  tfSamePadding: false,
  convHead: false,
  preprocessing: (m) => ({
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    resizeMode: 'squash',
    resize: m.resolution,
    size: m.resolution,
    interpolation: 'bilinear',
  }),
});

/** What both families tell the runtime: the input's name and sizes, the logits output, VOC's names for 21 classes. */
const dense = (auxOf: (cfg: ResolvedConfig) => boolean): DenseTask => ({
  input: 'images',
  resolution: { ok: (r) => r >= 32, expected: 'an integer from 32 (any size: the output is upsampled to it)' },
  metadata: (cfg) => ({
    ...segmentationMetadata({
      kind: 'segmentation',
      inputSize: [cfg.resolution, cfg.resolution],
      output: 'out',
      ...(auxOf(cfg) && { aux: true }),
    }),
    ...(cfg.classes === VOC_CATEGORIES.length && { [LABELS_KEY]: JSON.stringify(VOC_CATEGORIES) }),
  }),
  config: (cfg): Record<string, FamilyOptionValue> => (auxOf(cfg) ? { aux: true } : {}),
});

/** LR-ASPP on dilated MobileNetV3-Large (torchvision `lraspp_mobilenet_v3_large`): logits 'out' at the input size. */
export const LRASPP: Family<'lraspp-v3-large'> = defineFamily({
  name: 'lraspp',
  archs: ['lraspp-v3-large'],
  help: 'LR-ASPP segmenter on dilated MobileNetV3-Large (torchvision lraspp_mobilenet_v3_large)',
  conventions: { torchvision: convention<'lraspp-v3-large'>() },
  defaultConvention: 'torchvision',
  options: {},
  resolution: () => SEGMENTATION_RESOLUTION,
  dropout: 0,
  weights: { native: 'torchvision', classifier: { torchvision: 'classifier.low_classifier' } },
  dense: dense(() => false),
  build: (net, input) => buildLraspp(net, input),
});

interface DeeplabOptions {
  readonly aux: boolean;
}

/** DeepLabV3 on dilated MobileNetV3-Large (torchvision `deeplabv3_mobilenet_v3_large`); `aux` adds the FCN head. */
export const DEEPLABV3: Family<'deeplabv3-v3-large'> = defineFamily({
  name: 'deeplabv3',
  archs: ['deeplabv3-v3-large'],
  help: 'DeepLabV3 segmenter on dilated MobileNetV3-Large (torchvision deeplabv3_mobilenet_v3_large)',
  conventions: { torchvision: convention<'deeplabv3-v3-large'>() },
  defaultConvention: 'torchvision',
  options: {
    aux: { name: 'aux', neutral: false, help: "also output the FCN auxiliary head's logits ('aux')" },
  } satisfies Record<keyof DeeplabOptions, unknown>,
  resolution: () => SEGMENTATION_RESOLUTION,
  dropout: 0,
  weights: {
    native: 'torchvision',
    classifier: { torchvision: 'classifier.4' },
    optionsFromKeys: (has) => ({ aux: has('aux_classifier.4.weight') }),
  },
  dense: dense((cfg) => cfg.options.aux === true),
  build: (net, input, _conv, _arch, options: DeeplabOptions) => buildDeeplab(net, input, options.aux),
});
