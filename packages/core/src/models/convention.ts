import type { V4Arch } from './v4.js';

/**
 * Where the reference implementations disagree, a convention picks one side, so that weights trained by each
 * can be loaded unchanged. `reference` is the authors' own code (TF-slim, tensorflow/models). `timm-tf` is timm's
 * `tf_` models: TF's weights ported into timm's layout, built with TF's padding and BN epsilon.
 */
export type Convention = 'reference' | 'torchvision' | 'keras' | 'timm' | 'timm-tf';
export const CONVENTIONS: readonly Convention[] = ['reference', 'torchvision', 'keras', 'timm', 'timm-tf'];

/** v4's archs and conventions live in v4.ts and v4-convention.ts; ARCHS lists the families every runtime covers. */
export type Arch = 'v1' | 'v2' | 'v3-large' | 'v3-small' | V4Arch;
export const ARCHS: readonly Arch[] = ['v1', 'v2', 'v3-large', 'v3-small'];

/** How an image becomes the input tensor; stored in the ONNX metadata so a runtime can follow it. */
export interface Preprocessing {
  /** Per-channel mean and std applied to pixels scaled to [0, 1] (RGB). [-1, 1] input is mean 0.5, std 0.5. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /**
   * 'crop': resize the short side to `resize` then center-crop `size` (torchvision, timm, TF-slim eval);
   * 'squash': resize straight to `size`, ignoring aspect (Keras load_img, tfjs).
   */
  readonly resizeMode: 'crop' | 'squash';
  readonly resize: number;
  readonly size: number;
  readonly interpolation: 'bilinear' | 'bicubic';
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
const HALF = [0.5, 0.5, 0.5] as const;

export interface ConventionSpec {
  readonly classes: number;
  readonly bnEps: (arch: Arch) => number;
  /** TF 'SAME' padding: stride-2 convs pad (k-1)/2 before and k/2 after (asymmetric), as TF and Keras do. */
  readonly tfSamePadding: boolean;
  /** v1 channel rounding: TF-slim max(int(c*a), 8), Keras int(c*a), PyTorch ports make_divisible(c*a, 8). */
  readonly v1Channels: (c: number, width: number) => number;
  /** v1's activation: the paper says ReLU; TF-slim, Keras and timm (`_gen_mobilenet_v1`: 'relu6') ship ReLU6. */
  readonly v1Activation: 'relu' | 'relu6';
  /** Classifier as a 1x1 conv on the pooled map (TF, Keras) or a Linear layer (PyTorch). */
  readonly convHead: boolean;
  /** MobileNetV3's 1280/1024 head at a width: torchvision scales it, TF-slim and Keras only widen it, timm keeps it. */
  readonly v3Head: (base: number, width: number) => number;
  /**
   * MobileNetV3's expanded width at a width multiplier: TF-slim and Keras scale the *ratio* exp/in of the paper's
   * row onto the already-scaled input (`expand_input(ratio)`, `_depth(in * expansion)`, timm's `e4.5`-style
   * block strings); torchvision scales the row's exp size itself. Identical at width 1.
   */
  readonly v3ExpansionFromRatio: boolean;
  /** MobileNetV3's 16-channel stem at a width: Keras keeps it, timm keeps it below 0.75 (`fix_stem`). */
  readonly v3Stem: (width: number) => number;
  readonly preprocessing: (arch: Arch, resolution: number) => Preprocessing;
}

/** Round to the nearest multiple of `divisor`, never below `min` nor more than 10% below `v` (TF-slim's rule). */
export function makeDivisible(v: number, divisor = 8, min = divisor): number {
  const r = Math.max(min, Math.floor((v + divisor / 2) / divisor) * divisor);
  return r < 0.9 * v ? r + divisor : r;
}

const widenOnly = (base: number, w: number): number => (w > 1 ? makeDivisible(base * w) : base);

const crop = (mean: Preprocessing['mean'], std: Preprocessing['std'], res: number, interpolation: Preprocessing['interpolation']): Preprocessing => ({
  mean, std, resizeMode: 'crop', resize: Math.floor(res / 0.875), size: res, interpolation,
});

// timm 1.0.29: efficientnet.py `_gen_mobilenet_v1/_v2`, mobilenetv3.py `_gen_mobilenet_v3`; preprocessing from each
// model's default pretrained_cfg (v1: inception mean/std; v2, v3: ImageNet's; all bicubic, crop 0.875).
const TIMM: ConventionSpec = {
  v3ExpansionFromRatio: true,
  v1Activation: 'relu6',
  classes: 1000,
  bnEps: () => 1e-5,
  tfSamePadding: false,
  v1Channels: (c, a) => makeDivisible(c * a),
  convHead: false,
  v3Head: (base) => base,
  v3Stem: (w) => (w < 0.75 ? 16 : makeDivisible(16 * w)),
  preprocessing: (arch, res) => (arch === 'v1' ? crop(HALF, HALF, res, 'bicubic') : crop(IMAGENET_MEAN, IMAGENET_STD, res, 'bicubic')),
};

export const CONVENTION: Readonly<Record<Convention, ConventionSpec>> = {
  reference: {
    v3ExpansionFromRatio: true,
    v1Activation: 'relu6',
    classes: 1001,
    bnEps: () => 1e-3,
    tfSamePadding: true,
    v1Channels: (c, a) => Math.max(Math.trunc(c * a), 8),
    convHead: true,
    v3Head: widenOnly,
    v3Stem: (w) => makeDivisible(16 * w),
    preprocessing: (_, res) => crop(HALF, HALF, res, 'bilinear'),
  },
  torchvision: {
    v3ExpansionFromRatio: false,
    v1Activation: 'relu6',
    classes: 1000,
    bnEps: (arch) => (arch.startsWith('v3') ? 1e-3 : 1e-5),
    tfSamePadding: false,
    v1Channels: (c, a) => makeDivisible(c * a),
    convHead: false,
    v3Head: (base, w) => makeDivisible(base * w),
    v3Stem: (w) => makeDivisible(16 * w),
    preprocessing: (_, res) => crop(IMAGENET_MEAN, IMAGENET_STD, res, 'bilinear'),
  },
  keras: {
    v3ExpansionFromRatio: true,
    v1Activation: 'relu6',
    classes: 1000,
    bnEps: () => 1e-3,
    tfSamePadding: true,
    v1Channels: (c, a) => Math.trunc(c * a),
    convHead: true,
    v3Head: widenOnly,
    v3Stem: () => 16,
    // Keras v3 models rescale [0, 255] inside the graph; the graph we build starts after that Rescaling layer.
    preprocessing: (_, res) => ({ mean: HALF, std: HALF, resizeMode: 'squash', resize: res, size: res, interpolation: 'bilinear' }),
  },
  timm: TIMM,
  // timm's tf_mobilenetv3_* (`bn_eps=BN_EPS_TF_DEFAULT`, `pad_type='same'`): timm's layout with TF's numerics, and
  // their pretrained_cfg: inception mean/std, bilinear, crop 0.875. timm ports no TF v1 or v2.
  'timm-tf': { ...TIMM, bnEps: () => 1e-3, tfSamePadding: true, preprocessing: (_, res) => crop(HALF, HALF, res, 'bilinear') },
};
