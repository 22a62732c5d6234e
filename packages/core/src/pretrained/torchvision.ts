import { IMAGENET_MEAN, IMAGENET_STD, type Preprocessing } from '../metadata/preprocessing.js';
import type { Arch } from '../models/builtin.js';

/**
 * torchvision's MobileNet weights, as data: each row is one value of a `*_Weights` enum (torchvision 0.14,
 * `torchvision/models/mobilenetv2.py`, `mobilenetv3.py`, `detection/ssdlite.py`, `segmentation/lraspp.py`,
 * `segmentation/deeplabv3.py`), with its file on download.pytorch.org, its eval transforms and its meta. `pretrained.test.ts`
 * checks every row against torchvision itself. Sizes (`_file_size`, MiB) and GFLOPS (`_ops`) are the newer
 * torchvision's meta (0.15+), which 0.14 does not carry yet.
 */

/** Where torchvision's files are (`MOBILENET_TORCHVISION_URL` points elsewhere, e.g. a mirror). */
export const TORCHVISION_BASE_URL = 'https://download.pytorch.org/models';

/** torchvision's `ImageClassification` preset: resize the short side, center-crop, ImageNet mean/std. */
export interface ClassificationTransforms {
  readonly kind: 'classification';
  readonly resize: number;
  readonly crop: number;
  readonly interpolation: 'bilinear';
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** `SemanticSegmentation(resize_size=520)` and `ObjectDetection`: models this package does not build yet. */
export type OtherTransforms =
  | { readonly kind: 'segmentation'; readonly resize: number }
  | { readonly kind: 'detection' };

export interface TorchvisionWeights {
  /** The builder's name, e.g. 'mobilenet_v3_large'. */
  readonly model: string;
  /** The enum and the value, e.g. 'MobileNet_V3_Large_Weights', 'IMAGENET1K_V2'. */
  readonly enum: string;
  readonly value: string;
  /** The file's name on download.pytorch.org/models: its part after the last '-' is a SHA-256 prefix. */
  readonly file: string;
  readonly transforms: ClassificationTransforms | OtherTransforms;
  /** Which category list `meta["categories"]` is, and its length. */
  readonly categories: { readonly name: 'imagenet' | 'coco' | 'voc'; readonly count: number };
  /** `meta["_metrics"]`: the dataset and its numbers (acc@1/acc@5, miou/pixel_acc, box_map). */
  readonly metrics: { readonly dataset: string; readonly values: Readonly<Record<string, number>> };
  readonly numParams: number;
  readonly fileSizeMiB: number;
  readonly gflops: number;
  readonly recipe: string;
  /** The model we build for these weights; absent for a task this package does not build (detection, segmentation). */
  readonly build?: { readonly arch: Arch; readonly width: number };
}

const classification = (resize: number): ClassificationTransforms => ({
  kind: 'classification',
  resize,
  crop: 224,
  interpolation: 'bilinear',
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
});
const IMAGENET = { name: 'imagenet', count: 1000 } as const;
const VOC = { name: 'voc', count: 21 } as const;
const imagenet = (acc1: number, acc5: number) => ({ dataset: 'ImageNet-1K', values: { 'acc@1': acc1, 'acc@5': acc5 } });
const vocLabels = (miou: number, pixelAcc: number) => ({
  dataset: 'COCO-val2017-VOC-labels',
  values: { miou, pixel_acc: pixelAcc },
});
const RECIPE = 'https://github.com/pytorch/vision/tree/main/references';
const NEW_RECIPE = 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning';

export const TORCHVISION_WEIGHTS: readonly TorchvisionWeights[] = [
  {
    model: 'mobilenet_v2',
    enum: 'MobileNet_V2_Weights',
    value: 'IMAGENET1K_V1',
    file: 'mobilenet_v2-b0353104.pth',
    transforms: classification(256),
    categories: IMAGENET,
    metrics: imagenet(71.878, 90.286),
    numParams: 3504872,
    fileSizeMiB: 13.555,
    gflops: 0.301,
    recipe: `${RECIPE}/classification#mobilenetv2`,
    build: { arch: 'v2', width: 1 },
  },
  {
    model: 'mobilenet_v2',
    enum: 'MobileNet_V2_Weights',
    value: 'IMAGENET1K_V2',
    file: 'mobilenet_v2-7ebf99e0.pth',
    transforms: classification(232),
    categories: IMAGENET,
    metrics: imagenet(72.154, 90.822),
    numParams: 3504872,
    fileSizeMiB: 13.598,
    gflops: 0.301,
    recipe: NEW_RECIPE,
    build: { arch: 'v2', width: 1 },
  },
  {
    model: 'mobilenet_v3_large',
    enum: 'MobileNet_V3_Large_Weights',
    value: 'IMAGENET1K_V1',
    file: 'mobilenet_v3_large-8738ca79.pth',
    transforms: classification(256),
    categories: IMAGENET,
    metrics: imagenet(74.042, 91.34),
    numParams: 5483032,
    fileSizeMiB: 21.114,
    gflops: 0.217,
    recipe: `${RECIPE}/classification#mobilenetv3-large--small`,
    build: { arch: 'v3-large', width: 1 },
  },
  {
    model: 'mobilenet_v3_large',
    enum: 'MobileNet_V3_Large_Weights',
    value: 'IMAGENET1K_V2',
    file: 'mobilenet_v3_large-5c1a4163.pth',
    transforms: classification(232),
    categories: IMAGENET,
    metrics: imagenet(75.274, 92.566),
    numParams: 5483032,
    fileSizeMiB: 21.107,
    gflops: 0.217,
    recipe: NEW_RECIPE,
    build: { arch: 'v3-large', width: 1 },
  },
  {
    model: 'mobilenet_v3_small',
    enum: 'MobileNet_V3_Small_Weights',
    value: 'IMAGENET1K_V1',
    file: 'mobilenet_v3_small-047dcff4.pth',
    transforms: classification(256),
    categories: IMAGENET,
    metrics: imagenet(67.668, 87.402),
    numParams: 2542856,
    fileSizeMiB: 9.829,
    gflops: 0.057,
    recipe: `${RECIPE}/classification#mobilenetv3-large--small`,
    build: { arch: 'v3-small', width: 1 },
  },
  {
    model: 'ssdlite320_mobilenet_v3_large',
    enum: 'SSDLite320_MobileNet_V3_Large_Weights',
    value: 'COCO_V1',
    file: 'ssdlite320_mobilenet_v3_large_coco-a79551df.pth',
    transforms: { kind: 'detection' },
    categories: { name: 'coco', count: 91 },
    metrics: { dataset: 'COCO-val2017', values: { box_map: 21.3 } },
    numParams: 3440060,
    fileSizeMiB: 13.418,
    gflops: 0.583,
    recipe: `${RECIPE}/detection#ssdlite320-mobilenetv3-large`,
  },
  {
    model: 'lraspp_mobilenet_v3_large',
    enum: 'LRASPP_MobileNet_V3_Large_Weights',
    value: 'COCO_WITH_VOC_LABELS_V1',
    file: 'lraspp_mobilenet_v3_large-d234d4ea.pth',
    transforms: { kind: 'segmentation', resize: 520 },
    categories: VOC,
    metrics: vocLabels(57.9, 91.2),
    numParams: 3221538,
    fileSizeMiB: 12.49,
    gflops: 2.086,
    recipe: `${RECIPE}/segmentation#lraspp_mobilenet_v3_large`,
  },
  {
    model: 'deeplabv3_mobilenet_v3_large',
    enum: 'DeepLabV3_MobileNet_V3_Large_Weights',
    value: 'COCO_WITH_VOC_LABELS_V1',
    file: 'deeplabv3_mobilenet_v3_large-fc3c493d.pth',
    transforms: { kind: 'segmentation', resize: 520 },
    categories: VOC,
    metrics: vocLabels(60.3, 91.2),
    numParams: 11029328,
    fileSizeMiB: 42.301,
    gflops: 10.452,
    recipe: `${RECIPE}/segmentation#deeplabv3_mobilenet_v3_large`,
  },
];

/** Each enum's `DEFAULT`, by model. */
export const TORCHVISION_DEFAULTS: Readonly<Record<string, string>> = {
  mobilenet_v2: 'IMAGENET1K_V2',
  mobilenet_v3_large: 'IMAGENET1K_V2',
  mobilenet_v3_small: 'IMAGENET1K_V1',
  ssdlite320_mobilenet_v3_large: 'COCO_V1',
  lraspp_mobilenet_v3_large: 'COCO_WITH_VOC_LABELS_V1',
  deeplabv3_mobilenet_v3_large: 'COCO_WITH_VOC_LABELS_V1',
};

/**
 * The SHA-256 prefix in a torchvision file name, as torch.hub's `HASH_REGEX = r'-([a-f0-9]*)\.'` reads it
 * (the first match): 'mobilenet_v2-b0353104.pth' -> 'b0353104'. Undefined when the name has none.
 * @internal
 */
export function hashPrefixOf(file: string): string | undefined {
  const m = /-([a-f0-9]*)\./.exec(file);
  return m?.[1] || undefined;
}

/** The preprocessing of classification weights: torchvision's preset, as our `Preprocessing`. */
export function torchvisionWeightsPreprocessing(t: ClassificationTransforms): Preprocessing {
  return {
    mean: t.mean,
    std: t.std,
    resizeMode: 'crop',
    resize: t.resize,
    size: t.crop,
    interpolation: t.interpolation,
  };
}
