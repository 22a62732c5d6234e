import type { Value } from '../ir/tensor.js';
import type { Convention, ConventionBase, Family, Net } from './contract.js';
import { CONVENTION, makeDivisible } from './convention.js';
import { defineFamily } from './family.js';
import { type Activation, activate, convBnAct, dense, finish, squeezeExcite } from './layers.js';

export type Nl = 'RE' | 'HS';
/** One bneck row as the paper prints it: [kernel, exp size, #out, SE, NL, s]. Input channels are the previous row's. */
export type V3Row = readonly [kernel: 3 | 5, exp: number, out: number, se: boolean, nl: Nl, stride: 1 | 2];

/** MobileNetV3-Large, Table 1 of arXiv 1905.02244 (after a 3x3 stem conv: 16 channels, h-swish, stride 2). */
export const V3_LARGE: readonly V3Row[] = [
  [3, 16, 16, false, 'RE', 1],
  [3, 64, 24, false, 'RE', 2],
  [3, 72, 24, false, 'RE', 1],
  [5, 72, 40, true, 'RE', 2],
  [5, 120, 40, true, 'RE', 1],
  [5, 120, 40, true, 'RE', 1],
  [3, 240, 80, false, 'HS', 2],
  [3, 200, 80, false, 'HS', 1],
  [3, 184, 80, false, 'HS', 1],
  [3, 184, 80, false, 'HS', 1],
  [3, 480, 112, true, 'HS', 1],
  [3, 672, 112, true, 'HS', 1],
  [5, 672, 160, true, 'HS', 2],
  [5, 960, 160, true, 'HS', 1],
  [5, 960, 160, true, 'HS', 1],
];

/** MobileNetV3-Small, Table 2 of arXiv 1905.02244. */
export const V3_SMALL: readonly V3Row[] = [
  [3, 16, 16, true, 'RE', 2],
  [3, 72, 24, false, 'RE', 2],
  [3, 88, 24, false, 'RE', 1],
  [5, 96, 40, true, 'HS', 2],
  [5, 240, 40, true, 'HS', 1],
  [5, 240, 40, true, 'HS', 1],
  [5, 120, 48, true, 'HS', 1],
  [5, 144, 48, true, 'HS', 1],
  [5, 288, 96, true, 'HS', 2],
  [5, 576, 96, true, 'HS', 1],
  [5, 576, 96, true, 'HS', 1],
];

const V3_STEM = 16;
/**
 * The width of the last 1x1 conv before the classifier. Table 2 of the revised paper prints 1280 for Small, but
 * the authors' code (TF-slim `V3_SMALL`), torchvision, Keras and timm all use 1024, which also gives the
 * paper's 2.5M parameters.
 */
export const V3_HEAD = { 'v3-large': 1280, 'v3-small': 1024 } as const;

export type V3Arch = 'v3-large' | 'v3-small';

/** v3's own choices under each convention, beside the shared ones. */
export interface V3Convention extends ConventionBase<V3Arch> {
  /** The 1280/1024 head at a width: torchvision scales it, TF-slim and Keras only widen it, timm keeps it. */
  readonly head: (base: number, width: number) => number;
  /**
   * The expanded width at a width multiplier: TF-slim and Keras scale the *ratio* exp/in of the paper's row onto
   * the already-scaled input (`expand_input(ratio)`, `_depth(in * expansion)`, timm's `e4.5`-style block
   * strings); torchvision scales the row's exp size itself. Identical at width 1.
   */
  readonly expansionFromRatio: boolean;
  /** The 16-channel stem at a width: Keras keeps it, timm keeps it below 0.75 (`fix_stem`). */
  readonly stem: (width: number) => number;
}

const widenOnly = (base: number, w: number): number => (w > 1 ? makeDivisible(base * w) : base);
const scaled = (base: number, w: number): number => makeDivisible(base * w);
const timmStem = (w: number): number => (w < 0.75 ? 16 : makeDivisible(16 * w));

const V3_CONVENTION: Readonly<Record<Convention, V3Convention>> = {
  reference: { ...CONVENTION.reference, head: widenOnly, expansionFromRatio: true, stem: (w) => scaled(16, w) },
  // torchvision's MobileNetV3 uses BatchNorm eps 0.001 (v1 and v2 keep PyTorch's 1e-5).
  torchvision: {
    ...CONVENTION.torchvision,
    bnEps: 1e-3,
    head: scaled,
    expansionFromRatio: false,
    stem: (w) => scaled(16, w),
  },
  keras: { ...CONVENTION.keras, head: widenOnly, expansionFromRatio: true, stem: () => 16 },
  timm: { ...CONVENTION.timm, head: (base) => base, expansionFromRatio: true, stem: timmStem },
  'timm-tf': { ...CONVENTION['timm-tf'], head: (base) => base, expansionFromRatio: true, stem: timmStem },
};

/**
 * The bneck block: 1x1 expand (skipped when exp = in), k x k depthwise, optional squeeze-excite with
 * make_divisible(exp / 4, 8) channels, linear 1x1 project; residual when stride 1 and channels unchanged.
 * Names follow torchvision: `${name}.block.{j}` in order.
 */
function bneck(
  net: Net,
  x: Value,
  name: string,
  row: { k: number; exp: number; out: number; se: boolean; act: Activation; s: number; d: number },
): Value {
  const inp = x.type.shape[1] as number;
  let y = x;
  let j = 0;
  if (row.exp !== inp) y = convBnAct(net, y, `${name}.block.${j++}`, { out: row.exp, kernel: 1, act: row.act });
  // A dilated block keeps the resolution: stride 1, dilation d (torchvision: `stride = 1 if dilation > 1`).
  y = convBnAct(net, y, `${name}.block.${j++}`, {
    out: row.exp,
    kernel: row.k,
    stride: row.d > 1 ? 1 : row.s,
    dilation: row.d,
    group: row.exp,
    act: row.act,
  });
  if (row.se) y = squeezeExcite(net, y, `${name}.block.${j++}`, makeDivisible(row.exp / 4));
  y = convBnAct(net, y, `${name}.block.${j}`, { out: row.out, kernel: 1, act: 'none' });
  return row.s === 1 && inp === row.out ? net.b.add(x, y, `${name}.add`) : y;
}

/** v3's own options: the minimalistic models (TF-slim, Keras), and torchvision's detection and segmentation tails. */
interface V3Options {
  readonly minimalistic: boolean;
  readonly reducedTail: boolean;
  readonly dilated: boolean;
}

function mobilenetV3(net: Net, input: Value, conv: V3Convention, arch: V3Arch, options: V3Options): void {
  const { cfg } = net;
  const ch = (c: number) => makeDivisible(c * cfg.width);
  const mini = options.minimalistic;
  // Minimalistic models: ReLU instead of h-swish, 3x3 kernels only, no squeeze-excite.
  const nl = (a: Nl): Activation => (a === 'HS' && !mini ? 'hswish' : 'relu');
  let x = convBnAct(net, input, 'features.0', { out: conv.stem(cfg.width), kernel: 3, stride: 2, act: nl('HS') });
  const rows = arch === 'v3-small' ? V3_SMALL : V3_LARGE;
  // The last stage (from the last stride-2 row on) is what `reducedTail` halves and `dilated` dilates.
  const tail = rows.length - 1 - [...rows].reverse().findIndex((r) => r[5] === 2);
  const rd = options.reducedTail ? 2 : 1;
  let paperIn = V3_STEM;
  rows.forEach(([k, paperExp, paperOut, se, a, s], i) => {
    const exp = i > tail ? paperExp / rd : paperExp;
    const out = i >= tail ? paperOut / rd : paperOut;
    const inp = x.type.shape[1] as number;
    const e = conv.expansionFromRatio ? makeDivisible((inp * exp) / paperIn) : ch(exp);
    const d = options.dilated && i >= tail ? 2 : 1;
    x = bneck(net, x, `features.${i + 1}`, {
      k: mini ? 3 : k,
      exp: e,
      out: ch(out),
      se: se && !mini,
      act: nl(a),
      s,
      d,
    });
    paperIn = out;
  });
  const last = 6 * (x.type.shape[1] as number);
  x = convBnAct(net, x, `features.${rows.length + 1}`, { out: last, kernel: 1, act: nl('HS') });
  finish(net, x, (pooled) => {
    const h = dense(net, pooled, 'classifier.0', conv.head(V3_HEAD[arch] / rd, cfg.width));
    const y = net.b.dropout(activate(net, h, nl('HS'), 'classifier.1'));
    return dense(net, y, 'classifier.3', cfg.classes);
  });
}

export const V3: Family<V3Arch> = defineFamily({
  name: 'v3',
  archs: ['v3-large', 'v3-small'],
  help: 'MobileNetV3 Large and Small (Howard et al. 2019): SE, h-swish, NAS-found rows',
  conventions: V3_CONVENTION,
  defaultConvention: 'reference',
  options: {
    minimalistic: { name: 'minimalistic', neutral: false, help: 'no SE, no h-swish, 3x3 kernels' },
    reducedTail: {
      name: 'reduced-tail',
      neutral: false,
      help: 'halve the last stage and head (torchvision, for detection)',
    },
    dilated: {
      name: 'dilated',
      neutral: false,
      help: 'dilation 2 in the last stage, output stride 16 (for segmentation)',
    },
  },
  resolution: () => 224,
  dropout: 0.2,
  weights: {
    native: 'torchvision',
    classifier: { torchvision: 'classifier.3', timm: 'classifier' },
    timm: {
      stages: (arch) => (arch === 'v3-small' ? [1, 2, 3, 2, 3, 1] : [1, 2, 3, 4, 2, 3, 1]),
      head: () => [
        ['classifier.0', 'conv_head'],
        ['classifier.3', 'classifier'],
      ],
    },
  },
  build: mobilenetV3,
});
