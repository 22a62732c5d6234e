// MobileNetV4's tables: the archs, the block kinds and each model's rows, as data. v4.ts builds from them.
/**
 * MobileNetV4 (Qin et al. 2024, arXiv 2404.10518) as tables of typed rows. The rows are the authors' TF specs
 * (tensorflow/models official/vision/modeling/backbones/mobilenet.py, `MNV4*_BLOCK_SPECS`), which agree row by row
 * with timm 1.0.29's `_gen_mobilenet_v4`; they are grouped into timm's stages so that parameter names are timm's
 * state_dict keys (`blocks.{stage}.{index}...`).
 */
export type V4Arch = 'v4-conv-small' | 'v4-conv-medium' | 'v4-conv-large' | 'v4-hybrid-medium' | 'v4-hybrid-large';
export const V4_ARCHS: readonly V4Arch[] = [
  'v4-conv-small',
  'v4-conv-medium',
  'v4-conv-large',
  'v4-hybrid-medium',
  'v4-hybrid-large',
];

export type Stride = 1 | 2;
/** A depthwise kernel of a UIB; 0 = that depthwise conv is absent. */
export type DwKernel = 0 | 3 | 5;

/** One row of a MobileNetV4 table. `out` is the paper's output width (scaled by the width multiplier). */
export type V4Block =
  /** Conv2D k x k, BN, activation (timm 'cn', ConvBnAct). */
  | { readonly kind: 'conv'; readonly k: 1 | 3; readonly s: Stride; readonly out: number }
  /** FusedIB: k x k full conv expanding to make_divisible(in * e), BN, act; 1x1 project, BN (timm 'er', EdgeResidual). */
  | { readonly kind: 'fused-ib'; readonly k: 3; readonly s: Stride; readonly e: number; readonly out: number }
  /**
   * Universal Inverted Bottleneck: optional start depthwise (BN, no act), 1x1 expand (BN, act), optional middle
   * depthwise (BN, act; carries the stride), 1x1 project (BN). ExtraDW = start and middle, IB = middle only,
   * ConvNext-like = start only, FFN = neither (timm 'uir', UniversalInvertedResidual).
   */
  | {
      readonly kind: 'uib';
      readonly start: DwKernel;
      readonly mid: DwKernel;
      readonly s: Stride;
      readonly e: number;
      readonly out: number;
    }
  /** Mobile MQA: `heads` query heads sharing one key and one value head of `dim` channels (timm 'mqa'). */
  | {
      readonly kind: 'mqa';
      readonly heads: number;
      readonly dim: number;
      readonly kvStride: Stride;
      readonly out: number;
    };

const conv = (k: 1 | 3, s: Stride, out: number): V4Block => ({ kind: 'conv', k, s, out });
const fib = (k: 3, s: Stride, e: number, out: number): V4Block => ({ kind: 'fused-ib', k, s, e, out });
/** uib(start, mid, stride, expansion, out), the argument order of the TF specs. */
const u = (start: DwKernel, mid: DwKernel, s: Stride, e: number, out: number): V4Block => ({
  kind: 'uib',
  start,
  mid,
  s,
  e,
  out,
});
const mqa = (heads: number, dim: number, kvStride: Stride, out: number): V4Block => ({
  kind: 'mqa',
  heads,
  dim,
  kvStride,
  out,
});
const times = (n: number, b: V4Block): V4Block[] => Array.from({ length: n }, () => b);

export interface V4Spec {
  /** The paper's input resolution for the model (the default). */
  readonly resolution: number;
  readonly stem: number;
  readonly act: 'relu' | 'gelu';
  /** LayerScale on every UIB and MQA block (the hybrids; gamma initialised to 1e-5). */
  readonly layerScale: boolean;
  /** The stages of timm's `blocks`; the last is the 1x1 conv to 960 before pooling. */
  readonly stages: readonly (readonly V4Block[])[];
  /** The 1x1 conv after pooling (timm `conv_head` + `norm_head`, TF's last convbn): 1280, no bias, BN + act. */
  readonly head: number;
}

const LAST = [conv(1, 1, 960)];

/** MNv4-Conv-S. */
const CONV_SMALL: V4Spec = {
  resolution: 224,
  stem: 32,
  act: 'relu',
  layerScale: false,
  head: 1280,
  stages: [
    [conv(3, 2, 32), conv(1, 1, 32)],
    [conv(3, 2, 96), conv(1, 1, 64)],
    [u(5, 5, 2, 3, 96), ...times(4, u(0, 3, 1, 2, 96)), u(3, 0, 1, 4, 96)],
    [u(3, 3, 2, 6, 128), u(5, 5, 1, 4, 128), u(0, 5, 1, 4, 128), u(0, 5, 1, 3, 128), ...times(2, u(0, 3, 1, 4, 128))],
    LAST,
  ],
};

/** MNv4-Conv-M. */
const CONV_MEDIUM: V4Spec = {
  resolution: 256,
  stem: 32,
  act: 'relu',
  layerScale: false,
  head: 1280,
  stages: [
    [fib(3, 2, 4, 48)],
    [u(3, 5, 2, 4, 80), u(3, 3, 1, 2, 80)],
    [
      u(3, 5, 2, 6, 160),
      ...times(2, u(3, 3, 1, 4, 160)),
      u(3, 5, 1, 4, 160),
      u(3, 3, 1, 4, 160),
      u(3, 0, 1, 4, 160),
      u(0, 0, 1, 2, 160),
      u(3, 0, 1, 4, 160),
    ],
    [
      u(5, 5, 2, 6, 256),
      u(5, 5, 1, 4, 256),
      ...times(2, u(3, 5, 1, 4, 256)),
      u(0, 0, 1, 4, 256),
      u(3, 0, 1, 4, 256),
      u(3, 5, 1, 2, 256),
      u(5, 5, 1, 4, 256),
      ...times(2, u(0, 0, 1, 4, 256)),
      u(5, 0, 1, 2, 256),
    ],
    LAST,
  ],
};

/** MNv4-Conv-L. */
const CONV_LARGE: V4Spec = {
  resolution: 384,
  stem: 24,
  act: 'relu',
  layerScale: false,
  head: 1280,
  stages: [
    [fib(3, 2, 4, 48)],
    [u(3, 5, 2, 4, 96), u(3, 3, 1, 4, 96)],
    [
      u(3, 5, 2, 4, 192),
      ...times(3, u(3, 3, 1, 4, 192)),
      u(3, 5, 1, 4, 192),
      ...times(5, u(5, 3, 1, 4, 192)),
      u(3, 0, 1, 4, 192),
    ],
    [
      u(5, 5, 2, 4, 512),
      ...times(3, u(5, 5, 1, 4, 512)),
      u(5, 0, 1, 4, 512),
      u(5, 3, 1, 4, 512),
      ...times(2, u(5, 0, 1, 4, 512)),
      u(5, 3, 1, 4, 512),
      u(5, 5, 1, 4, 512),
      ...times(3, u(5, 0, 1, 4, 512)),
    ],
    LAST,
  ],
};

/** MNv4-Hybrid-M: Conv-M's layout with Mobile MQA in the last two stages (K/V downsampled at 1/16). */
const HYBRID_MEDIUM: V4Spec = {
  resolution: 256,
  stem: 32,
  act: 'relu',
  layerScale: true,
  head: 1280,
  stages: [
    [fib(3, 2, 4, 48)],
    [u(3, 5, 2, 4, 80), u(3, 3, 1, 2, 80)],
    [
      u(3, 5, 2, 6, 160),
      u(0, 0, 1, 2, 160),
      u(3, 3, 1, 4, 160),
      u(3, 5, 1, 4, 160),
      mqa(4, 64, 2, 160),
      u(3, 3, 1, 4, 160),
      mqa(4, 64, 2, 160),
      u(3, 0, 1, 4, 160),
      mqa(4, 64, 2, 160),
      u(3, 3, 1, 4, 160),
      mqa(4, 64, 2, 160),
      u(3, 0, 1, 4, 160),
    ],
    [
      u(5, 5, 2, 6, 256),
      u(5, 5, 1, 4, 256),
      ...times(2, u(3, 5, 1, 4, 256)),
      u(0, 0, 1, 2, 256),
      u(3, 5, 1, 2, 256),
      u(0, 0, 1, 2, 256),
      u(0, 0, 1, 4, 256),
      mqa(4, 64, 1, 256),
      u(3, 0, 1, 4, 256),
      mqa(4, 64, 1, 256),
      u(5, 5, 1, 4, 256),
      mqa(4, 64, 1, 256),
      u(5, 0, 1, 4, 256),
      mqa(4, 64, 1, 256),
      u(5, 0, 1, 4, 256),
    ],
    LAST,
  ],
};

/** MNv4-Hybrid-L: GELU throughout. */
const HYBRID_LARGE: V4Spec = {
  resolution: 384,
  stem: 24,
  act: 'gelu',
  layerScale: true,
  head: 1280,
  stages: [
    [fib(3, 2, 4, 48)],
    [u(3, 5, 2, 4, 96), u(3, 3, 1, 4, 96)],
    [
      u(3, 5, 2, 4, 192),
      ...times(3, u(3, 3, 1, 4, 192)),
      u(3, 5, 1, 4, 192),
      ...times(2, u(5, 3, 1, 4, 192)),
      mqa(8, 48, 2, 192),
      u(5, 3, 1, 4, 192),
      mqa(8, 48, 2, 192),
      u(5, 3, 1, 4, 192),
      mqa(8, 48, 2, 192),
      u(5, 3, 1, 4, 192),
      mqa(8, 48, 2, 192),
      u(3, 0, 1, 4, 192),
    ],
    [
      u(5, 5, 2, 4, 512),
      ...times(3, u(5, 5, 1, 4, 512)),
      u(5, 0, 1, 4, 512),
      u(5, 3, 1, 4, 512),
      ...times(2, u(5, 0, 1, 4, 512)),
      u(5, 3, 1, 4, 512),
      u(5, 5, 1, 4, 512),
      mqa(8, 64, 1, 512),
      u(5, 0, 1, 4, 512),
      mqa(8, 64, 1, 512),
      u(5, 0, 1, 4, 512),
      mqa(8, 64, 1, 512),
      u(5, 0, 1, 4, 512),
      mqa(8, 64, 1, 512),
      u(5, 0, 1, 4, 512),
    ],
    LAST,
  ],
};

export const V4_SPECS: Readonly<Record<V4Arch, V4Spec>> = {
  'v4-conv-small': CONV_SMALL,
  'v4-conv-medium': CONV_MEDIUM,
  'v4-conv-large': CONV_LARGE,
  'v4-hybrid-medium': HYBRID_MEDIUM,
  'v4-hybrid-large': HYBRID_LARGE,
};
