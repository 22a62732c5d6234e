import type { Value } from '../ir/tensor.js';
import type { Convention, ConventionBase, Family, Net } from './contract.js';
import { CONVENTION, halfRangePreprocessing, makeDivisible } from './convention.js';
import { defineFamily } from './family.js';
import { convBnAct, dense, finish } from './layers.js';

/**
 * MobileNet v1, Table 1 of arXiv 1704.04861: after the 3x3 stem conv (32 channels, stride 2), thirteen depthwise
 * separable layers, each [pointwise output channels, depthwise stride].
 */
export const V1_LAYERS: readonly (readonly [channels: number, stride: number])[] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  // Table 1 prints "s2" here, but its input is already 7x7: an erratum. TF-slim, Keras and timm all use stride 1.
  [1024, 1],
];

/** v1's own choices under each convention, beside the shared ones. */
export interface V1Convention extends ConventionBase<'v1'> {
  /** Channel rounding: TF-slim max(int(c*a), 8), Keras int(c*a), PyTorch ports make_divisible(c*a, 8). */
  readonly channels: (c: number, width: number) => number;
  /** The paper says ReLU; TF-slim, Keras and timm (`_gen_mobilenet_v1`: 'relu6') ship ReLU6. */
  readonly activation: 'relu' | 'relu6';
}

const divisible = (c: number, a: number) => makeDivisible(c * a);
const v1 = (
  convention: Convention,
  channels: V1Convention['channels'],
  extra: Partial<V1Convention> = {},
): V1Convention => ({
  ...CONVENTION[convention],
  channels,
  activation: 'relu6',
  ...extra,
});

const V1_CONVENTION: Readonly<Record<Convention, V1Convention>> = {
  reference: v1('reference', (c, a) => Math.max(Math.trunc(c * a), 8)),
  torchvision: v1('torchvision', divisible),
  keras: v1('keras', (c, a) => Math.trunc(c * a)),
  // timm's mobilenetv1_100 pretrained_cfg: inception mean/std ([-1, 1] input), bicubic, crop 0.875.
  timm: v1('timm', divisible, { preprocessing: (m) => halfRangePreprocessing(m.resolution, 'bicubic') }),
  'timm-tf': v1('timm-tf', divisible),
};

/** v1's own option: Keras's `depth_multiplier`, the channels of each depthwise group. */
interface V1Options {
  readonly depthMultiplier: number;
}

/**
 * A depthwise separable layer: 3x3 depthwise conv-BN-act (`.0`) with `multiplier` channels per group, then 1x1
 * pointwise conv-BN-act (`.1`).
 */
function depthwiseSeparable(
  net: Net,
  x: Value,
  name: string,
  layer: { out: number; stride: number; multiplier: number },
  act: V1Convention['activation'],
): Value {
  const c = x.type.shape[1] as number;
  const { out, stride, multiplier } = layer;
  const dw = convBnAct(net, x, `${name}.0`, { out: c * multiplier, kernel: 3, stride, group: c, act });
  return convBnAct(net, dw, `${name}.1`, { out, kernel: 1, act });
}

function mobilenetV1(net: Net, input: Value, conv: V1Convention, _arch: 'v1', options: V1Options): void {
  const { cfg } = net;
  const ch = (c: number) => conv.channels(c, cfg.width);
  let x = convBnAct(net, input, 'features.0', { out: ch(32), kernel: 3, stride: 2, act: conv.activation });
  V1_LAYERS.forEach(([c, stride], i) => {
    const layer = { out: ch(c), stride, multiplier: options.depthMultiplier };
    x = depthwiseSeparable(net, x, `features.${i + 1}`, layer, conv.activation);
  });
  finish(net, x, (pooled) => dense(net, pooled, 'classifier.1', cfg.classes));
}

export const V1: Family<'v1'> = defineFamily({
  name: 'v1',
  archs: ['v1'],
  help: 'MobileNet v1 (Howard et al. 2017): depthwise separable convs',
  conventions: V1_CONVENTION,
  defaultConvention: 'reference',
  options: {
    depthMultiplier: {
      name: 'depth-multiplier',
      neutral: 1,
      value: 'D',
      help: 'channels per depthwise group, 1 to 8 (default 1)',
      check: { ok: (d) => Number.isInteger(d) && d >= 1 && d <= 8, expected: 'an integer from 1 to 8' },
    },
  },
  resolution: () => 224,
  dropout: 0.001,
  weights: {
    native: 'torchvision',
    classifier: { torchvision: 'classifier.1', timm: 'classifier' },
    timm: { stages: () => [1, 2, 2, 6, 2], head: () => [['classifier.1', 'classifier']] },
  },
  build: mobilenetV1,
});
