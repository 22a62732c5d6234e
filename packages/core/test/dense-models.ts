// Small stand-ins for issue 26's detector and segmenter, built through the IR with the contract's output names and
// metadata (plan/contract-26.md), so the runtimes, the CLI and the demo are tested without the real architectures.
// Their heads are tiny (a pooled colour through one Gemm, a 1x1 conv), but their outputs have the real shapes.
import { COCO_CATEGORIES, SSDLITE_DEFAULT_BOXES, SSDLITE320_GRIDS } from '../src/detection/index.js';
import { GraphBuilder } from '../src/ir/builder.js';
import type { Graph } from '../src/ir/graph.js';
import { rng } from '../src/ir/params.js';
import { type DetectionMetadata, detectionMetadata, segmentationMetadata } from '../src/metadata/dense.js';
import { LABELS_KEY, METADATA_KEYS } from '../src/metadata/keys.js';
import { HALF_RANGE, IMAGENET_MEAN, IMAGENET_STD } from '../src/metadata/preprocessing.js';
import { VOC_CATEGORIES } from '../src/detection/categories.js';

/** SSDLite320's anchors: 3,234 rows of 91 COCO classes. */
export const SSD_ANCHORS = 3234;
export const SSD_METADATA: DetectionMetadata = {
  kind: 'ssd',
  postprocess: 'none',
  inputSize: [320, 320],
  anchors: { aspectRatios: SSDLITE_DEFAULT_BOXES.aspectRatios, minRatio: 0.2, maxRatio: 0.95, clip: true },
  grids: SSDLITE320_GRIDS,
  boxCoderWeights: [10, 10, 5, 5],
  scoreThreshold: 0.001,
  iouThreshold: 0.55,
  topkCandidates: 300,
  maxDetections: 300,
};

const squash = (size: number, mean: readonly number[], std: readonly number[]) =>
  JSON.stringify({ mean, std, resizeMode: 'squash', resize: size, size, interpolation: 'bilinear' });

/** Constant rows for a planted detection: the logits every anchor has, and its deltas. */
export interface Planted {
  /** (anchor, class, logit) set over a background logit of 20 everywhere. */
  readonly boxes: readonly { readonly anchor: number; readonly label: number; readonly logit: number }[];
}

/**
 * A detector with SSDLite320's raw outputs (`bbox_regression` [N, 3234, 4], `cls_logits` [N, 3234, 91]) and its
 * metadata. `planted`: weights zero, the biases give every image the same logits (background 20, the planted
 * boxes' classes above it) and zero deltas (boxes are the anchors). Otherwise seeded weights on the pooled colour:
 * rows differ per image.
 */
export function tinyDetector(
  o: { readonly planted?: Planted; readonly seed?: number; readonly batch?: number } = {},
): Graph {
  const classes = COCO_CATEGORIES.length;
  const random = rng(o.seed ?? 0, 'tiny-detector');
  const fill = ({ name, dims }: { name: string; dims: readonly number[] }) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (o.planted) {
      if (name === 'head.cls.bias') {
        for (let a = 0; a < SSD_ANCHORS; a++) data[a * classes] = 20;
        for (const p of o.planted.boxes) data[p.anchor * classes + p.label] = p.logit;
      }
      return data;
    }
    const scale = name.includes('cls') ? 6 : 1.5;
    for (let i = 0; i < n; i++) data[i] = (random() * 2 - 1) * scale;
    return data;
  };
  const b = new GraphBuilder('tiny-detector', { fill });
  const x = b.input('images', [o.batch ?? 'N', 3, 320, 320]);
  const pooled = b.flatten(b.globalAveragePool(x, 'pool'), 'flat');
  const reshape = (v: ReturnType<typeof b.linear>, name: string, cols: number) => {
    const shape = b.constant({
      name: `${name}.shape`,
      dtype: 'int64',
      dims: [3],
      data: BigInt64Array.of(0n, BigInt(SSD_ANCHORS), BigInt(cols)),
    });
    return b.node('Reshape', name, [v.name, shape]);
  };
  b.output(reshape(b.linear(pooled, 'head.bbox', SSD_ANCHORS * 4), 'bbox_regression', 4));
  b.output(reshape(b.linear(pooled, 'head.cls', SSD_ANCHORS * classes), 'cls_logits', classes));
  Object.assign(b.metadata, {
    [METADATA_KEYS.preprocessing]: squash(320, HALF_RANGE, HALF_RANGE),
    [LABELS_KEY]: JSON.stringify(COCO_CATEGORIES),
    ...detectionMetadata({ ...SSD_METADATA }),
  });
  return b.build();
}

/**
 * A segmenter with LRASPP's output (`out` [N, 21, R, R], VOC's classes) and metadata: a seeded 1x1 conv of the
 * image, so the classes follow the colours.
 */
export function tinySegmenter(o: { readonly resolution?: number; readonly seed?: number } = {}): Graph {
  const r = o.resolution ?? 64;
  const random = rng(o.seed ?? 0, 'tiny-segmenter');
  const fill = ({ dims }: { dims: readonly number[] }) =>
    Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (random() * 2 - 1) * 3);
  const b = new GraphBuilder('tiny-segmenter', { fill });
  const x = b.input('images', ['N', 3, r, r]);
  b.output(b.conv(x, 'out', { out: VOC_CATEGORIES.length, kernel: 1, bias: true }));
  Object.assign(b.metadata, {
    [METADATA_KEYS.preprocessing]: squash(r, IMAGENET_MEAN, IMAGENET_STD),
    [LABELS_KEY]: JSON.stringify(VOC_CATEGORIES),
    ...segmentationMetadata({ kind: 'segmentation', inputSize: [r, r], output: 'out' }),
  });
  return b.build();
}
