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

export const V3_CONVENTION: Readonly<Record<Convention, V3Convention>> = {
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

/** Where a bneck's layers are named: its sub-layer j (torchvision's `block.{j}`) and its residual add. */
export interface BneckNames {
  readonly sub: (j: number) => string;
  readonly add: string;
}

/** torchvision's names of the bneck at `features.{i}`. */
const bneckNames = (name: string): BneckNames => ({ sub: (j) => `${name}.block.${j}`, add: `${name}.add` });

/**
 * The bneck block: 1x1 expand (skipped when exp = in), k x k depthwise, optional squeeze-excite with
 * make_divisible(exp / 4, 8) channels, linear 1x1 project; residual when stride 1 and channels unchanged.
 * Names follow torchvision: `${name}.block.{j}` in order. Returns the output and the expansion's output (C4 of
 * SSDLite taps it), or undefined when there is none.
 */
function bneck(
  net: Net,
  x: Value,
  names: BneckNames,
  row: { k: number; exp: number; out: number; se: boolean; act: Activation; s: number; d: number },
): { out: Value; expanded: Value | undefined } {
  const inp = x.type.shape[1] as number;
  let y = x;
  let j = 0;
  let expanded: Value | undefined;
  if (row.exp !== inp) y = expanded = convBnAct(net, y, names.sub(j++), { out: row.exp, kernel: 1, act: row.act });
  // A dilated block keeps the resolution: stride 1, dilation d (torchvision: `stride = 1 if dilation > 1`).
  y = convBnAct(net, y, names.sub(j++), {
    out: row.exp,
    kernel: row.k,
    stride: row.d > 1 ? 1 : row.s,
    dilation: row.d,
    group: row.exp,
    act: row.act,
  });
  if (row.se) y = squeezeExcite(net, y, names.sub(j++), makeDivisible(row.exp / 4));
  y = convBnAct(net, y, names.sub(j), { out: row.out, kernel: 1, act: 'none' });
  return { out: row.s === 1 && inp === row.out ? net.b.add(x, y, names.add) : y, expanded };
}

/** v3's own options: the minimalistic models (TF-slim, Keras), and torchvision's detection and segmentation tails. */
export interface V3Options {
  readonly minimalistic: boolean;
  readonly reducedTail: boolean;
  readonly dilated: boolean;
}

/** Where the body's layers are named: `features.{i}` in the classifier; detection and segmentation move them. */
export interface V3Names {
  /** The stem (i = 0), the bnecks (1 ... rows) and the last 1x1 conv (rows + 1). */
  readonly layer: (i: number) => BneckNames & { readonly name: string };
}

const FEATURES: V3Names = { layer: (i) => ({ name: `features.${i}`, ...bneckNames(`features.${i}`) }) };

const v3Rows = (arch: V3Arch): readonly V3Row[] => (arch === 'v3-small' ? V3_SMALL : V3_LARGE);

/**
 * The `features` index of the last stage's first block (the last stride-2 row): torchvision's C4,
 * `stage_indices[-2]`, whose expansion SSDLite taps and from which `reducedTail` and `dilated` act.
 */
export function v3LastStage(arch: V3Arch): number {
  const rows = v3Rows(arch);
  return rows.length - [...rows].reverse().findIndex((r) => r[5] === 2);
}

/**
 * torchvision's `stage_indices` of a v3 body: the stem, each block whose row has stride 2 (C1 ... C4, dilated or
 * not: `_is_cn` reads the row) and the last conv (C5). Segmentation heads pick their taps from it.
 */
export function v3StageIndices(arch: V3Arch): number[] {
  const rows = v3Rows(arch);
  return [0, ...rows.flatMap((r, i) => (r[5] === 2 ? [i + 1] : [])), rows.length + 1];
}

/** What the body gives the heads built on it: each `features.{i}` output, and each bneck's expansion output. */
export interface V3Body {
  readonly features: readonly Value[];
  readonly expansions: readonly (Value | undefined)[];
  /** Index of the first row of the last stage (torchvision's C4 block, `stage_indices[-2]`). */
  readonly tail: number;
}

/**
 * The stem, the bneck rows and the last 1x1 conv (torchvision's `features`). `reducedTail` halves the last stage
 * and `dilated` dilates it instead of striding, as torchvision's `_mobilenet_v3_conf` does.
 */
export function mobilenetV3Body(
  net: Net,
  input: Value,
  conv: V3Convention,
  arch: V3Arch,
  options: V3Options,
  names: V3Names = FEATURES,
): V3Body {
  const { cfg } = net;
  const ch = (c: number) => makeDivisible(c * cfg.width);
  const mini = options.minimalistic;
  // Minimalistic models: ReLU instead of h-swish, 3x3 kernels only, no squeeze-excite.
  const nl = (a: Nl): Activation => (a === 'HS' && !mini ? 'hswish' : 'relu');
  let x = convBnAct(net, input, names.layer(0).name, {
    out: conv.stem(cfg.width),
    kernel: 3,
    stride: 2,
    act: nl('HS'),
  });
  const features: Value[] = [x];
  const expansions: (Value | undefined)[] = [undefined];
  const rows = v3Rows(arch);
  // The last stage (from the last stride-2 row on) is what `reducedTail` halves and `dilated` dilates.
  const tail = v3LastStage(arch) - 1;
  const rd = options.reducedTail ? 2 : 1;
  let paperIn = V3_STEM;
  rows.forEach(([k, paperExp, paperOut, se, a, s], i) => {
    const exp = i > tail ? paperExp / rd : paperExp;
    const out = i >= tail ? paperOut / rd : paperOut;
    const inp = x.type.shape[1] as number;
    const e = conv.expansionFromRatio ? makeDivisible((inp * exp) / paperIn) : ch(exp);
    const d = options.dilated && i >= tail ? 2 : 1;
    const block = bneck(net, x, names.layer(i + 1), {
      k: mini ? 3 : k,
      exp: e,
      out: ch(out),
      se: se && !mini,
      act: nl(a),
      s,
      d,
    });
    x = block.out;
    features.push(x);
    expansions.push(block.expanded);
    paperIn = out;
  });
  const last = 6 * (x.type.shape[1] as number);
  features.push(convBnAct(net, x, names.layer(rows.length + 1).name, { out: last, kernel: 1, act: nl('HS') }));
  return { features, expansions, tail: tail + 1 };
}

function mobilenetV3(net: Net, input: Value, conv: V3Convention, arch: V3Arch, options: V3Options): void {
  const { cfg } = net;
  const mini = options.minimalistic;
  const nl = (a: Nl): Activation => (a === 'HS' && !mini ? 'hswish' : 'relu');
  const body = mobilenetV3Body(net, input, conv, arch, options);
  const rd = options.reducedTail ? 2 : 1;
  finish(net, body.features.at(-1)!, (pooled) => {
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
