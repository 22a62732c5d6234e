// SSDLite320 on MobileNetV3-Large, as torchvision 0.14 builds `ssdlite320_mobilenet_v3_large(weights=None,
// weights_backbone=None)` (models/detection/ssdlite.py, ssd.py, anchor_utils.py): the backbone with the reduced
// tail, C4's expansion and the last conv as the first two maps, four extra blocks, and per map a depthwise + 1x1
// prediction block for the boxes and the classes. Names are torchvision's state_dict keys.
import { SSDLITE_DEFAULT_BOXES, defaultBoxesPerLocation } from '../detection/anchors.js';
import { SSD_BOX_CODER_WEIGHTS } from '../detection/box-coder.js';
import { COCO_CATEGORIES } from '../detection/categories.js';
import {
  SSD_IOU_THRESHOLD,
  SSD_MAX_DETECTIONS,
  SSD_SCORE_THRESHOLD,
  SSD_TOPK_CANDIDATES,
} from '../detection/postprocess.js';
import type { Value } from '../ir/tensor.js';
import { detectionMetadata } from '../metadata/dense.js';
import { LABELS_KEY } from '../metadata/keys.js';
import { HALF_RANGE } from '../metadata/preprocessing.js';
import type { ConventionBase, Family, Net, ResolvedConfig } from './contract.js';
import { concat, convBias, flattenAnchors } from './dense-layers.js';
import { defineFamily } from './family.js';
import { convBnAct } from './layers.js';
import { type V3Names, V3_CONVENTION, mobilenetV3Body, v3LastStage } from './v3.js';

/** SSDLite's fixed input: 320 x 320 (torchvision's `size = (320, 320)`, GeneralizedRCNNTransform's fixed_size). */
export const SSDLITE_RESOLUTION = 320;

/**
 * The extra blocks after the backbone (ssdlite.py `_extra_block`, `get_depth` at width 1): each 1x1 to half its
 * output, 3x3 depthwise stride 2, 1x1 to its output, each with BN and ReLU6. torchvision's extractor does not
 * scale them with the backbone's width (`_mobilenet_extractor` leaves `width_mult` at 1.0).
 */
export const SSDLITE_EXTRAS: readonly number[] = [512, 256, 256, 128];

/** The layers where the feature extractor splits the backbone: before and after C4's depthwise conv. */
const PART = { early: 'backbone.features.0', late: 'backbone.features.1' } as const;

/**
 * torchvision's names for the backbone inside SSDLiteFeatureExtractorMobileNet: `features.0` holds the stem, the
 * bnecks before C4 and C4's expansion (`block[0]`); `features.1` the rest of C4 (its `block[1:]` slice keeps the
 * sub-layer numbers), the later bnecks and the last conv.
 */
function extractorNames(c4: number): V3Names {
  return {
    layer: (i) => {
      if (i < c4) {
        const name = `${PART.early}.${i}`;
        return { name, sub: (j) => `${name}.block.${j}`, add: `${name}.add` };
      }
      if (i === c4)
        return {
          name: `${PART.early}.${i}`,
          sub: (j) => (j === 0 ? `${PART.early}.${i}` : `${PART.late}.0.${j}`),
          add: '',
        };
      const name = `${PART.late}.${i - c4}`;
      return { name, sub: (j) => `${name}.block.${j}`, add: `${name}.add` };
    },
  };
}

/** One extra block: 1x1 to half, 3x3 depthwise stride 2, 1x1 to `out`, each conv-BN-ReLU6. */
function extraBlock(net: Net, x: Value, name: string, out: number): Value {
  const mid = out >> 1;
  let y = convBnAct(net, x, `${name}.0`, { out: mid, kernel: 1, act: 'relu6' });
  y = convBnAct(net, y, `${name}.1`, { out: mid, kernel: 3, stride: 2, group: mid, act: 'relu6' });
  return convBnAct(net, y, `${name}.2`, { out, kernel: 1, act: 'relu6' });
}

/** A prediction block (ssdlite.py `_prediction_block`): 3x3 depthwise + BN + ReLU6, then a 1x1 conv with bias. */
function predictionBlock(net: Net, x: Value, name: string, out: number): Value {
  const c = x.type.shape[1] as number;
  const y = convBnAct(net, x, `${name}.0`, { out: c, kernel: 3, group: c, act: 'relu6' });
  return convBias(net, y, `${name}.1`, { out, kernel: 1 });
}

/** A scoring head over every map (SSDScoringHead): per map a prediction block, flattened to rows, concatenated. */
function scoringHead(net: Net, maps: readonly Value[], name: string, columns: number, output: string): Value {
  const perLocation = defaultBoxesPerLocation(SSDLITE_DEFAULT_BOXES);
  const rows = maps.map((x, k) => {
    const y = predictionBlock(net, x, `${name}.module_list.${k}`, perLocation[k]! * columns);
    return flattenAnchors(net, y, `${name}.module_list.${k}.flatten`, columns);
  });
  return net.b.rename(concat(net, rows, `${name}.cat`, 1), output);
}

/** SSDLite320: the six maps, then the box and class heads (outputs `bbox_regression` and `cls_logits`). */
function buildSsdlite(net: Net, input: Value): void {
  const c4 = v3LastStage('v3-large');
  const options = { minimalistic: false, reducedTail: true, dilated: false };
  const body = mobilenetV3Body(net, input, V3_CONVENTION.torchvision, 'v3-large', options, extractorNames(c4));
  const maps = [body.expansions[c4]!, body.features.at(-1)!];
  SSDLITE_EXTRAS.forEach((out, k) => {
    maps.push(extraBlock(net, maps.at(-1)!, `backbone.extra.${k}`, out));
  });
  // torchvision's state_dict has the classification head first; its outputs dict has the boxes first.
  const logits = scoringHead(net, maps, 'head.classification_head', net.cfg.classes, 'cls_logits');
  const boxes = scoringHead(net, maps, 'head.regression_head', 4, 'bbox_regression');
  net.b.output(boxes);
  net.b.output(logits);
}

/** The feature maps' sizes of a built graph's heads, for the metadata: torchvision's 20, 10, 5, 3, 2, 1 at 320. */
export function ssdliteGrids(resolution: number): [number, number][] {
  const grids: [number, number][] = [];
  // Stride 16 for C4's expansion, 32 for the last conv, then each extra block halves (3x3, stride 2, pad 1).
  let g = Math.ceil(resolution / 16);
  grids.push([g, g]);
  for (let k = 0; k < 1 + SSDLITE_EXTRAS.length; k++) {
    g = Math.floor((g - 1) / 2) + 1;
    grids.push([g, g]);
  }
  return grids;
}

/** `mobilenet.detection` and COCO's names (for 91 classes) of an SSDLite320 model. */
function metadata(cfg: ResolvedConfig): Record<string, string> {
  const size = cfg.resolution;
  return {
    ...detectionMetadata({
      kind: 'ssd',
      postprocess: 'none',
      inputSize: [size, size],
      anchors: {
        aspectRatios: SSDLITE_DEFAULT_BOXES.aspectRatios.map((r) => [...r]),
        minRatio: SSDLITE_DEFAULT_BOXES.minRatio!,
        maxRatio: SSDLITE_DEFAULT_BOXES.maxRatio!,
        clip: true,
      },
      grids: ssdliteGrids(size),
      boxCoderWeights: SSD_BOX_CODER_WEIGHTS,
      scoreThreshold: SSD_SCORE_THRESHOLD,
      iouThreshold: SSD_IOU_THRESHOLD,
      topkCandidates: SSD_TOPK_CANDIDATES,
      maxDetections: SSD_MAX_DETECTIONS,
    }),
    ...(cfg.classes === COCO_CATEGORIES.length && { [LABELS_KEY]: JSON.stringify(COCO_CATEGORIES) }),
  };
}

/**
 * SSDLite's one convention, torchvision's: 91 COCO classes (background and the 'N/A' gaps included), BN eps 0.001
 * everywhere (`partial(nn.BatchNorm2d, eps=0.001, momentum=0.03)`), input scaled to [-1, 1] after a squash resize
 * to 320 (GeneralizedRCNNTransform with fixed_size: no aspect ratio kept).
 */
const SSDLITE_CONVENTION: ConventionBase<'ssdlite320-v3-large'> = {
  classes: COCO_CATEGORIES.length,
  bnEps: 1e-3,
  tfSamePadding: false,
  convHead: false,
  preprocessing: (m) => ({
    mean: HALF_RANGE,
    std: HALF_RANGE,
    resizeMode: 'squash',
    resize: m.resolution,
    size: m.resolution,
    interpolation: 'bilinear',
  }),
};

/** SSDLite320 on MobileNetV3-Large (torchvision `ssdlite320_mobilenet_v3_large`), ending at the raw head outputs. */
export const SSDLITE: Family<'ssdlite320-v3-large'> = defineFamily({
  name: 'ssdlite',
  archs: ['ssdlite320-v3-large'],
  help: 'SSDLite320 detector on MobileNetV3-Large (torchvision ssdlite320_mobilenet_v3_large; raw head outputs)',
  conventions: { torchvision: SSDLITE_CONVENTION },
  defaultConvention: 'torchvision',
  options: {},
  resolution: () => SSDLITE_RESOLUTION,
  dropout: 0,
  weights: {
    native: 'torchvision',
    classifier: { torchvision: 'head.classification_head.module_list.0.1' },
    rowsPerClass: defaultBoxesPerLocation(SSDLITE_DEFAULT_BOXES)[0]!,
  },
  dense: {
    input: 'images',
    resolution: { ok: (r) => r === SSDLITE_RESOLUTION, expected: `${SSDLITE_RESOLUTION} (SSDLite320's fixed input)` },
    metadata,
    config: () => ({}),
  },
  build: (net, input) => buildSsdlite(net, input),
});
