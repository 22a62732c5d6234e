import { MobileNetError } from '../ir/errors.js';
import { quote } from '../ir/quote.js';
import type { ModelSummary } from '../onnx/summary.js';

/**
 * The ONNX ops a model given to a session may hold: those our exports write and those torchvision's and timm's
 * exports of MobileNets use (shape arithmetic included), and SSD's postprocessing in the graph (TopK, NMS: bounded
 * by their inputs' sizes). Control flow (Loop, If, Scan) is not on it: a Loop of 2^62
 * trips runs forever in a classifier's place. Custom domains (com.microsoft, ...) are not either. `allowAnyOp`
 * lifts the list for a model the user trusts.
 */
export const MODEL_OPS: ReadonlySet<string> = new Set([
  'Abs',
  'Add',
  'AveragePool',
  'BatchNormalization',
  'Cast',
  'Ceil',
  'Clip',
  'Concat',
  'Constant',
  'ConstantOfShape',
  'Conv',
  'DequantizeLinear',
  'Div',
  'Dropout',
  'Equal',
  'Erf',
  'Exp',
  'Expand',
  'Flatten',
  'Floor',
  'Gather',
  'GatherND',
  'Gelu',
  'Gemm',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Greater',
  'HardSigmoid',
  'HardSwish',
  'Identity',
  'LayerNormalization',
  'LeakyRelu',
  'Less',
  'MatMul',
  'Max',
  'MaxPool',
  'Min',
  'Mul',
  'Neg',
  'NonMaxSuppression',
  'Pad',
  'Pow',
  'PRelu',
  'QuantizeLinear',
  'Reciprocal',
  'ReduceMax',
  'ReduceMean',
  'ReduceSum',
  'Relu',
  'Reshape',
  'Resize',
  'ScatterND',
  'Shape',
  'Sigmoid',
  'Slice',
  'Softmax',
  'Split',
  'Sqrt',
  'Squeeze',
  'Sub',
  'Tanh',
  'TopK',
  'Transpose',
  'Unsqueeze',
  'Where',
]);

/**
 * Most nodes a model may have: our largest MobileNet has under 1,000 and timm's under 2,000; onnxruntime took
 * more than 30 s to start a graph of 200,000. `maxNodes` (the CLI's --allow-large) lifts it.
 */
export const MAX_NODES = 20_000;

export interface ModelCheckOptions {
  /** Accept any op (the CLI's --allow-any-op). */
  readonly allowAnyOp?: boolean;
  /** Most nodes; default MAX_NODES. */
  readonly maxNodes?: number;
}

/** Refuses a model whose ops are off the list or whose graph is too large, naming the file, the ops and the way out. */
export function checkModelOps(
  summary: Pick<ModelSummary, 'ops' | 'nodeCount' | 'foreignOps'>,
  source: string,
  options: ModelCheckOptions = {},
): void {
  const maxNodes = options.maxNodes ?? MAX_NODES;
  if (summary.nodeCount > maxNodes)
    throw new MobileNetError(
      'model-ops',
      `model ${quote(source, Infinity)}`,
      `at most ${maxNodes} nodes (option maxNodes, or --allow-large, raises the cap)`,
      `${summary.nodeCount}`,
    );
  if (options.allowAnyOp) return;
  const off = [
    ...summary.foreignOps,
    ...Object.keys(summary.ops).filter(
      (op) => !MODEL_OPS.has(op) && !summary.foreignOps.some((f) => f.endsWith(`:${op}`)),
    ),
  ];
  if (off.length)
    throw new MobileNetError(
      'model-ops',
      `model ${quote(source, Infinity)}`,
      'only the ops of image classifiers (no control flow, no custom domains; allowAnyOp, or --allow-any-op, lifts the list)',
      `${off
        .slice(0, 5)
        .map((op) => quote(op, 60))
        .join(', ')}${off.length > 5 ? ` and ${off.length - 5} more` : ''}`,
    );
}
