/**
 * SSD's postprocessing as ONNX nodes appended to a graph whose outputs are the raw heads `bbox_regression`
 * [N, A, 4] and `cls_logits` [N, A, C]: the computation of `postprocessDetections` (postprocess.ts, torchvision's
 * `SSD.postprocess_detections`) up to the network-input pixels, so one file gives final boxes in any runtime.
 *
 * Per (image, class), torchvision keeps the scores > threshold, then the best `topkCandidates`, then runs NMS.
 * ONNX's NonMaxSuppression has no top-k before it (its max_output_boxes_per_class cuts after NMS), so the graph
 * takes TopK first and runs NMS on those k boxes. That is exactly torchvision's rule, and it is not "NMS over all,
 * keep the first k kept": greedy NMS decides a box by the boxes ranked above it only, so NMS over the top k keeps
 * precisely the boxes that NMS over all keeps AND that rank < k before NMS; kept boxes past rank k (which
 * max_output_boxes_per_class would return) are what torchvision never sees.
 *
 * Where the graph and torchvision can differ (tested in graph-postprocess.test.ts):
 * - ties: ONNX's TopK and NonMaxSuppression put the lower index first; torch.topk and batched_nms's final
 *   torch.sort are unstable (libstdc++ introsort), so equal scores may come out in another order;
 * - torchvision's batched_nms shifts classes apart by label * (max coordinate + 1) when there are at most 1,000
 *   candidates (the coordinate trick): IoUs then carry the shift's rounding, and one NaN coordinate makes every
 *   shifted box NaN so nothing is suppressed. The graph runs NMS per (image, class) on the unshifted boxes, which
 *   is torchvision's other (per-class) path.
 * NaN stays NaN through the decode and the clip (Where, not Min/Max, whose NaN rules differ between runtimes); a
 * NaN score never passes the threshold; a NaN or zero-area box never suppresses another and is never suppressed.
 */
import { ShapeError } from '../ir/errors.js';
import { type Graph, TypeScope, checkGraph } from '../ir/graph.js';
import { type Attr, type Node, int } from '../ir/node.js';
import type { DType, Initializer, TensorData, TensorType, Value } from '../ir/tensor.js';
import { BBOX_XFORM_CLIP, SSD_BOX_CODER_WEIGHTS } from './box-coder.js';
import { type DetectionLayout, type DetectionOptions, resolveDetectionOptions } from './postprocess.js';

const f = Math.fround;

/** The graph's input and output names (the contract of issue 26). */
export const DETECTION_GRAPH_NAMES = Object.freeze({
  bboxRegression: 'bbox_regression',
  clsLogits: 'cls_logits',
  scoreThreshold: 'score_threshold',
  iouThreshold: 'iou_threshold',
  maxDetections: 'max_detections',
  boxes: 'detection_boxes',
  scores: 'detection_scores',
  labels: 'detection_labels',
  count: 'detection_count',
});

/** What is fixed in the file: per class, the best `topkCandidates` go to NMS (default 300, torchvision's). */
export type GraphPostprocessOptions = Pick<DetectionOptions, 'topkCandidates'>;

/** Appends nodes to a graph, typing each as it comes (errors name the node). */
class Appender {
  readonly scope = new TypeScope();
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  private readonly prefix = 'postprocess/';

  constructor(graph: Graph) {
    for (const v of graph.inputs) this.scope.declare(v.name, v.type, `graph input '${v.name}'`);
    for (const i of graph.initializers) this.scope.addInitializer(i);
    for (const n of graph.nodes) this.scope.addNode(n);
  }

  type(name: string): TensorType {
    return this.scope.types.get(name)!;
  }

  readonly inputs: Value[] = [];

  /** A constant, added once: asking again for a name returns the existing one. */
  constant(name: string, dtype: DType, dims: readonly number[], data: TensorData): string {
    const init: Initializer = { name: this.prefix + name, dtype, dims, data };
    if (this.scope.constants.has(init.name)) return init.name;
    this.scope.addInitializer(init);
    this.initializers.push(init);
    return init.name;
  }

  /** A new graph input of one element. */
  input(name: string, dtype: DType): string {
    const v: Value = { name, type: { dtype, shape: [1] } };
    this.scope.declare(name, v.type, `graph input '${name}'`);
    this.inputs.push(v);
    return name;
  }

  f32(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(name, 'float32', dims, Float32Array.from(values));
  }

  i64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(name, 'int64', dims, BigInt64Array.from(values.map(BigInt)));
  }

  /** One node; `out` names its outputs (default: the node's name, prefixed). */
  node(
    op: string,
    name: string,
    inputs: readonly string[],
    attrs: Record<string, Attr> = {},
    out?: string[],
  ): string[] {
    const outputs = out ?? [this.prefix + name];
    const node: Node = { name: this.prefix + name, op, inputs, outputs, attrs };
    this.scope.addNode(node);
    this.nodes.push(node);
    return outputs;
  }

  one(op: string, name: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, out?: string): string {
    return this.node(op, name, inputs, attrs, out ? [out] : undefined)[0]!;
  }
}

function rawOutput(graph: Graph, name: string, last: number | undefined): Value {
  const v = graph.outputs.find((o) => o.name === name);
  const s = v?.type.shape;
  if (!v || s?.length !== 3 || typeof s[1] !== 'number' || (last !== undefined && s[2] !== last))
    throw new ShapeError(
      `graph '${graph.name}' output '${name}'`,
      `an output [N, anchors, ${last ?? 'classes'}] (SSD's raw head)`,
      v ? `${v.type.dtype} [${v.type.shape.join(', ')}]` : 'no such output',
    );
  return v;
}

/** Box decode (BoxCoder.decode_single) and clip to the input (clip_boxes_to_image): [N, A, 4] x1 y1 x2 y2. */
function decode(g: Appender, deltas: string, layout: DetectionLayout, a: number): string {
  const wh: number[] = [];
  const centre: number[] = [];
  for (let i = 0; i < a; i++) {
    const [x1, y1, x2, y2] = [0, 1, 2, 3].map((c) => layout.anchors[i * 4 + c]!);
    const w = f(x2! - x1!);
    const h = f(y2! - y1!);
    wh.push(w, h);
    centre.push(f(x1! + f(0.5 * w)), f(y1! + f(0.5 * h)));
  }
  const anchorWh = g.f32('anchor_wh', wh, [a, 2]);
  const anchorCentre = g.f32('anchor_centre', centre, [a, 2]);
  const [wx, wy, ww, wh2] = layout.boxCoderWeights ?? SSD_BOX_CODER_WEIGHTS;
  const axis2 = g.i64('axis2', [2]);
  const half = (name: string, from: number) =>
    g.one('Slice', name, [deltas, g.i64(`${name}.start`, [from]), g.i64(`${name}.end`, [from + 2]), axis2]);
  const dxy = g.one('Div', 'dxy', [half('deltas_xy', 0), g.f32('weights_xy', [wx, wy])]);
  const dwhRaw = g.one('Div', 'dwh_raw', [half('deltas_wh', 2), g.f32('weights_wh', [ww, wh2])]);
  // torch.clamp(max=) keeps NaN: so does Where(dwh > clip, clip, dwh).
  const clip = g.f32('xform_clip', [BBOX_XFORM_CLIP], []);
  const dwh = g.one('Where', 'dwh', [g.one('Greater', 'dwh_over', [dwhRaw, clip]), clip, dwhRaw]);
  const centres = g.one('Add', 'centres', [g.one('Mul', 'offsets', [dxy, anchorWh]), anchorCentre]);
  const sizes = g.one('Mul', 'sizes', [g.one('Exp', 'scales', [dwh]), anchorWh]);
  const halfSizes = g.one('Mul', 'half_sizes', [g.f32('half', [0.5], []), sizes]);
  const corners = g.one(
    'Concat',
    'corners',
    [g.one('Sub', 'top_left', [centres, halfSizes]), g.one('Add', 'bottom_right', [centres, halfSizes])],
    { axis: int(2) },
  );
  const [h, w] = layout.inputSize;
  const zero = g.f32('zero', [0], []);
  const bound = g.f32('image_bound', [w, h, w, h]);
  const low = g.one('Where', 'clip_low', [g.one('Less', 'below', [corners, zero]), zero, corners]);
  return g.one('Where', 'boxes', [g.one('Greater', 'above', [low, bound]), bound, low]);
}

/** Threshold, top-k and NMS per (image, class); returns the candidates and the kept ones' scores, dense. */
function selectPerClass(g: Appender, boxes: string, logits: string, c: number, k: number) {
  const scores = g.one('Softmax', 'softmax', [logits], { axis: int(2) });
  const fg = g.one('Slice', 'foreground', [scores, g.i64('fg.start', [1]), g.i64('fg.end', [c]), g.i64('axis2', [2])]);
  const perClass = g.one('Transpose', 'per_class', [fg], { perm: { kind: 'ints', value: [0, 2, 1] } });
  const clampTo = (name: string, input: string, lo: string, hi: string) => g.one('Clip', name, [input, lo, hi]);
  const zero = g.f32('zero', [0], []);
  const scoreThr = clampTo('score_threshold', DETECTION_GRAPH_NAMES.scoreThreshold, zero, g.f32('one', [1], []));
  const iouThr = clampTo('iou_threshold', DETECTION_GRAPH_NAMES.iouThreshold, zero, g.f32('one', [1], []));
  // Scores not above the threshold (NaN included) become -1, so TopK ranks only the passing ones first.
  const minusOne = g.f32('minus_one', [-1], []);
  const passing = g.one('Greater', 'passing', [perClass, scoreThr]);
  const masked = g.one('Where', 'masked', [passing, perClass, minusOne]);
  const kConst = g.i64('topk', [k]);
  const [values, indices] = g.node('TopK', 'topk', [masked, kConst], { axis: int(2) }, [
    'postprocess/topk.values',
    'postprocess/topk.indices',
  ]);
  const m = (c - 1) * k;
  const flatIdx = g.one('Reshape', 'topk.flat', [indices!, g.i64('shape.n_m_1', [0, m, 1])]);
  const candidates = g.one('GatherND', 'candidates', [boxes, flatIdx], { batch_dims: int(1) });
  const nmsBoxes = g.one('Reshape', 'nms.boxes', [candidates, g.i64('shape.nc_k_4', [-1, k, 4])]);
  const nmsScores = g.one('Reshape', 'nms.scores', [values!, g.i64('shape.nc_1_k', [-1, 1, k])]);
  const selected = g.one('NonMaxSuppression', 'nms', [nmsBoxes, nmsScores, kConst, iouThr, scoreThr]);
  // selected rows are (image * (C - 1) + class - 1, 0, rank); back to (image, class - 1, rank).
  const col = (name: string, i: number) =>
    g.one('Slice', name, [selected, g.i64(`${name}.start`, [i]), g.i64(`${name}.end`, [i + 1]), g.i64('axis1', [1])]);
  const batch = col('nms.batch', 0);
  const classes = g.i64('classes', [c - 1], []);
  const image = g.one('Div', 'nms.image', [batch, classes]);
  const cls = g.one('Sub', 'nms.class', [batch, g.one('Mul', 'nms.image_base', [image, classes])]);
  const where = g.one('Concat', 'nms.where', [image, cls, col('nms.rank', 2)], { axis: int(1) });
  // The kept scores in place, -1 elsewhere (values are finite: a score in [0, 1] or the -1 of `masked`).
  const fill = g.one('Sub', 'fill', [g.one('Mul', 'fill.zero', [values!, zero]), g.f32('one', [1], [])]);
  const keptScores = g.one('GatherND', 'kept.scores', [values!, where]);
  const dense = g.one('ScatterND', 'kept', [fill, where, keptScores]);
  return { candidates, dense: g.one('Reshape', 'kept.flat', [dense, g.i64('shape.n_m', [0, m])]), m };
}

/** The best `max_detections` per image across classes, padded: score 0, label 0, box 0 past the count. */
function bestPerImage(g: Appender, candidates: string, dense: string, k: number, m: number): void {
  const names = DETECTION_GRAPH_NAMES;
  const limit = g.one('Clip', 'max_detections', [names.maxDetections, g.i64('zero_i64', [0], []), g.i64('m', [m], [])]);
  const [values, indices] = g.node('TopK', 'best', [dense, limit], { axis: int(1) }, [
    'postprocess/best.values',
    'postprocess/best.indices',
  ]);
  const valid = g.one('Greater', 'valid', [values!, g.f32('minus_half', [-0.5], [])]);
  g.one('Where', 'scores', [valid, values!, g.f32('zero', [0], [])], {}, names.scores);
  const label = g.one('Add', 'label', [
    g.one('Div', 'class', [indices!, g.i64('k', [k], [])]),
    g.i64('one_i64', [1], []),
  ]);
  g.one('Where', 'labels', [valid, label, g.i64('zero_i64', [0], [])], {}, names.labels);
  const at = g.one('Reshape', 'best.at', [indices!, g.i64('shape.n_d_1', [0, 0, 1])]);
  const picked = g.one('GatherND', 'best.boxes', [candidates, at], { batch_dims: int(1) });
  const validBox = g.one('Reshape', 'valid.box', [valid, g.i64('shape.n_d_1', [0, 0, 1])]);
  g.one('Where', 'boxes_out', [validBox, picked, g.f32('zero', [0], [])], {}, names.boxes);
  const counts = g.one('Cast', 'valid.int', [valid], { to: int(7) });
  g.one('ReduceSum', 'count', [counts, g.i64('axis1', [1])], { keepdims: int(0) }, names.count);
}

/**
 * The graph with SSD's postprocessing appended: outputs `detection_boxes` [N, D, 4] (x1 y1 x2 y2 in the network
 * input's pixels), `detection_scores` [N, D], `detection_labels` [N, D] int64, `detection_count` [N] int64, with
 * D = min(max_detections, (C - 1) x k) and rows past the count zero. New inputs `score_threshold`, `iou_threshold`
 * (float32 [1], clamped to [0, 1] in the graph) and `max_detections` (int64 [1], clamped to [0, (C - 1) x k]) are
 * fed on every run: they are not initializers with defaults because onnxruntime's JavaScript bindings (node and
 * web) feed only `inputNames`, which leaves such "overridable initializers" out, so a threshold given at run time
 * would be ignored without a word. The defaults travel in the model's metadata.
 */
export function appendSsdPostprocess(
  graph: Graph,
  layout: Omit<DetectionLayout, 'numClasses'>,
  options: GraphPostprocessOptions = {},
): Graph {
  const names = DETECTION_GRAPH_NAMES;
  const deltas = rawOutput(graph, names.bboxRegression, 4);
  const logits = rawOutput(graph, names.clsLogits, undefined);
  const a = deltas.type.shape[1] as number;
  const c = logits.type.shape[2];
  if (layout.anchors.length !== a * 4 || logits.type.shape[1] !== a || typeof c !== 'number' || c < 2)
    throw new ShapeError(
      `graph '${graph.name}' raw outputs`,
      `${layout.anchors.length / 4} anchors (rows of both outputs) and at least 2 classes`,
      `bbox_regression [${deltas.type.shape.join(', ')}], cls_logits [${logits.type.shape.join(', ')}]`,
    );
  const k = Math.min(resolveDetectionOptions({ topkCandidates: options.topkCandidates }).topkCandidates, a);
  const g = new Appender(graph);
  g.input(names.scoreThreshold, 'float32');
  g.input(names.iouThreshold, 'float32');
  g.input(names.maxDetections, 'int64');
  const boxes = decode(g, deltas.name, layout as DetectionLayout, a);
  const { candidates, dense, m } = selectPerClass(g, boxes, logits.name, c, k);
  bestPerImage(g, candidates, dense, k, m);
  const outputs = [names.boxes, names.scores, names.labels, names.count].map((name) => ({ name, type: g.type(name) }));
  return checkGraph({
    ...graph,
    outputs,
    initializers: [...graph.initializers, ...g.initializers],
    nodes: [...graph.nodes, ...g.nodes],
    inputs: [...graph.inputs, ...g.inputs],
  });
}
