import {
  HALF_RANGE,
  IMAGENET_MEAN,
  IMAGENET_STD,
  centerCrop,
  torchvisionPreprocessing,
} from '../metadata/preprocessing.js';
import type { Convention, ConventionBase, Preprocessing } from './contract.js';

export type { Convention, Preprocessing } from './contract.js';

export const CONVENTIONS: readonly Convention[] = ['reference', 'torchvision', 'keras', 'timm', 'timm-tf'];

export { torchvisionPreprocessing } from '../metadata/preprocessing.js';

/** Round to the nearest multiple of `divisor`, never below `min` nor more than 10% below `v` (TF-slim's rule). */
export function makeDivisible(v: number, divisor = 8, min = divisor): number {
  const r = Math.max(min, Math.floor((v + divisor / 2) / divisor) * divisor);
  return r < 0.9 * v ? r + divisor : r;
}

/** The half-range [-1, 1] input of TF-slim and of timm's v1 and tf_ models, with crop 0.875. */
export const halfRangePreprocessing = (size: number, interpolation: Preprocessing['interpolation']): Preprocessing =>
  centerCrop(HALF_RANGE, HALF_RANGE, size, interpolation);

/**
 * The choices of each convention that v1, v2 and v3 share. The families add their own fields (v1's channel
 * rounding and activation, v3's stem, head and expansion) and overrides (torchvision's v3 BN epsilon, timm's v1
 * preprocessing) in their own files.
 */
export const CONVENTION: Readonly<Record<Convention, ConventionBase>> = {
  reference: {
    classes: 1001,
    bnEps: 1e-3,
    tfSamePadding: true,
    convHead: true,
    preprocessing: (m) => centerCrop(HALF_RANGE, HALF_RANGE, m.resolution, 'bilinear'),
  },
  torchvision: {
    classes: 1000,
    bnEps: 1e-5,
    tfSamePadding: false,
    convHead: false,
    preprocessing: (m) => torchvisionPreprocessing(m.resolution),
  },
  keras: {
    classes: 1000,
    bnEps: 1e-3,
    tfSamePadding: true,
    convHead: true,
    // Keras v3 models rescale [0, 255] inside the graph; the graph we build starts after that Rescaling layer.
    preprocessing: (m) => ({
      mean: HALF_RANGE,
      std: HALF_RANGE,
      resizeMode: 'squash',
      resize: m.resolution,
      size: m.resolution,
      interpolation: 'bilinear',
    }),
  },
  // timm 1.0.29: efficientnet.py `_gen_mobilenet_v1/_v2`, mobilenetv3.py `_gen_mobilenet_v3`; preprocessing from
  // each model's default pretrained_cfg (v2, v3: ImageNet's mean/std, bicubic, crop 0.875; v1 overrides it).
  timm: {
    classes: 1000,
    bnEps: 1e-5,
    tfSamePadding: false,
    convHead: false,
    preprocessing: (m) => centerCrop(IMAGENET_MEAN, IMAGENET_STD, m.resolution, 'bicubic'),
  },
  // timm's tf_mobilenetv3_* (`bn_eps=BN_EPS_TF_DEFAULT`, `pad_type='same'`): timm's layout with TF's numerics, and
  // their pretrained_cfg: inception mean/std, bilinear, crop 0.875. timm ports no TF v1 or v2.
  'timm-tf': {
    classes: 1000,
    bnEps: 1e-3,
    tfSamePadding: true,
    convHead: false,
    preprocessing: (m) => centerCrop(HALF_RANGE, HALF_RANGE, m.resolution, 'bilinear'),
  },
};
