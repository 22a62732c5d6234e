import { HALF_RANGE, IMAGENET_MEAN, IMAGENET_STD, centerCrop } from '../metadata/preprocessing.js';
import type { ConventionBase } from './contract.js';
import { makeDivisible } from './convention.js';
import type { V4Arch } from './v4-specs.js';

/**
 * Where timm's MobileNetV4 and the authors' TF code (tensorflow/models official/vision, `MobileNet` backbone with
 * the `MNV4*` specs and the `imagenet_mobilenetv4_*_tpu.yaml` experiments) differ, as data. The block tables are
 * the same in both (checked row by row); only these choices differ. v4 has no torchvision or Keras model.
 */
export type V4Convention = 'timm' | 'reference';
export const V4_CONVENTIONS: readonly V4Convention[] = ['timm', 'reference'];

/**
 * v4's choices under each convention. Of the shared ones: timm's BN epsilon is PyTorch's BatchNorm2d default, TF's
 * the backbone's and the experiments' norm_epsilon 0.001; timm's mobilenetv4_* use pad_type '' (symmetric), TF
 * 'SAME'; both classify with a Linear layer after the 1x1 head conv.
 */
export interface V4ConventionSpec extends ConventionBase<V4Arch> {
  /** The stem's width at a multiplier: timm keeps 32/24 below 1 (`fix_stem`), TF scales it like every conv. */
  readonly stem: (base: number, width: number) => number;
  /** The 1280 head at a multiplier: timm never scales it; TF keeps it below 1 and scales it above (finegrain mode). */
  readonly head: (base: number, width: number) => number;
  /** GELU of Hybrid-L: timm's nn.GELU is exact (erf); TF's official gelu is the tanh approximation. */
  readonly gelu: 'none' | 'tanh';
}

/** The parts of a timm `pretrained_cfg` that preprocessing needs. */
export interface TimmCfg {
  readonly input: number;
  readonly cropPct: number;
  readonly mean: 'imagenet' | 'inception';
}

/**
 * timm 1.0.29's default pretrained_cfg of each mobilenetv4 model (its first tag), all bicubic. The 0.5/0.35 Conv-S
 * weights were trained on [-1, 1] input (IMAGENET_INCEPTION mean = std = 0.5). `input` is timm's input_size.
 */
export const TIMM_V4_CFGS: Readonly<Record<string, TimmCfg & { readonly arch: V4Arch; readonly width: number }>> = {
  mobilenetv4_conv_small_035: { arch: 'v4-conv-small', width: 0.35, input: 224, cropPct: 0.875, mean: 'inception' },
  mobilenetv4_conv_small_050: { arch: 'v4-conv-small', width: 0.5, input: 224, cropPct: 0.875, mean: 'inception' },
  mobilenetv4_conv_small: { arch: 'v4-conv-small', width: 1, input: 224, cropPct: 0.875, mean: 'imagenet' },
  mobilenetv4_conv_medium: { arch: 'v4-conv-medium', width: 1, input: 256, cropPct: 0.95, mean: 'imagenet' },
  mobilenetv4_conv_large: { arch: 'v4-conv-large', width: 1, input: 384, cropPct: 0.95, mean: 'imagenet' },
  mobilenetv4_hybrid_medium_075: { arch: 'v4-hybrid-medium', width: 0.75, input: 224, cropPct: 0.95, mean: 'imagenet' },
  mobilenetv4_hybrid_medium: { arch: 'v4-hybrid-medium', width: 1, input: 256, cropPct: 0.95, mean: 'imagenet' },
  mobilenetv4_hybrid_large_075: { arch: 'v4-hybrid-large', width: 0.75, input: 256, cropPct: 0.95, mean: 'imagenet' },
  mobilenetv4_hybrid_large: { arch: 'v4-hybrid-large', width: 1, input: 384, cropPct: 0.95, mean: 'imagenet' },
};

/** timm's model name for an arch and width, when timm registers one. */
export function timmV4Name(arch: V4Arch, width: number): string | undefined {
  return Object.keys(TIMM_V4_CFGS).find((k) => TIMM_V4_CFGS[k]!.arch === arch && TIMM_V4_CFGS[k]!.width === width);
}

export const V4_CONVENTION: Readonly<Record<V4Convention, V4ConventionSpec>> = {
  timm: {
    classes: 1000,
    bnEps: 1e-5,
    tfSamePadding: false,
    convHead: false,
    stem: (base, w) => (w < 1 ? base : makeDivisible(base * w)),
    head: (base) => base,
    gelu: 'none',
    preprocessing: ({ arch, width, resolution }) => {
      // A width timm does not register takes the cfg of the arch's width-1 model.
      const cfg = TIMM_V4_CFGS[timmV4Name(arch, width) ?? timmV4Name(arch, 1)!]!;
      const [mean, std] = cfg.mean === 'inception' ? [HALF_RANGE, HALF_RANGE] : [IMAGENET_MEAN, IMAGENET_STD];
      return centerCrop(mean, std, resolution, 'bicubic', cfg.cropPct);
    },
  },
  reference: {
    // The imagenet_mobilenetv4_*_tpu.yaml experiments: num_classes 1001 (index 0 = background).
    classes: 1001,
    bnEps: 1e-3,
    tfSamePadding: true,
    convHead: false,
    stem: (base, w) => makeDivisible(base * w),
    head: (base, w) => (w > 1 ? makeDivisible(base * w) : base),
    gelu: 'tanh',
    // TF Model Garden's classification eval: ImageNet mean/std on [0, 1] pixels, center crop 0.875, bilinear.
    preprocessing: ({ resolution }) => centerCrop(IMAGENET_MEAN, IMAGENET_STD, resolution, 'bilinear'),
  },
};
