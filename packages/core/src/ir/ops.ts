import { GraphError } from './errors.js';
import type { Attr, AttrKind, Node } from './node.js';
import { broadcast } from './shapes.js';
import type { TensorType } from './tensor.js';
import {
  type InferContext,
  input,
  same,
  inferConv,
  inferBatchNorm,
  inferGemm,
  inferGlobalPool,
  inferAveragePool,
  inferFlatten,
  inferReshape,
  inferReduceMean,
  inferClip,
  inferMatMul,
  inferTranspose,
  inferPad,
  inferQuantize,
  inferDequantize,
  inferCast,
  convMacs,
  gemmMacs,
  matMulMacs,
} from './infer.js';
import {
  inferCompare,
  inferGather,
  inferGatherND,
  inferNms,
  inferReduceSum,
  inferScatterND,
  inferSlice,
  inferTopK,
  inferWhere,
} from './infer-select.js';
import { inferConcat, inferResize } from './infer-dense.js';
/**
 * The role of a constant input: trainable parameters vs running statistics vs plain constants, and the scale and
 * zero point that map a quantized tensor to real values (QuantizeLinear / DequantizeLinear), which are neither.
 */
export type InputRole = 'weight' | 'bias' | 'stat' | 'const' | 'scale' | 'zero-point';

export interface OpSpec {
  readonly op: string;
  /** Lowest opset in which this form of the op exists. */
  readonly since: number;
  readonly minInputs: number;
  readonly maxInputs: number;
  readonly attrs: Readonly<Record<string, AttrKind>>;
  /** Attributes that must always be written because ONNX's default differs from ours (HardSigmoid's alpha). */
  readonly requiredAttrs?: readonly string[];
  /** ONNX's defaults for those, filled in when reading a file that leaves them out. */
  readonly onnxDefaults?: Readonly<Record<string, Attr>>;
  /** Inputs whose type ONNX fixes as float32 whatever the data's (Resize's scales): precision passes leave them. */
  readonly float32Inputs?: readonly number[];
  /** Roles of constant inputs by position, for parameter counting. */
  readonly roles?: Readonly<Record<number, InputRole>>;
  readonly infer: (ctx: InferContext) => TensorType[];
  /** Multiply-accumulates of one inference, given input and output types (batch counted as given). */
  readonly macs?: (inputs: readonly TensorType[], outputs: readonly TensorType[], node: Node) => number;
}

const elementwise = (op: string): OpSpec => ({ op, since: 13, minInputs: 1, maxInputs: 1, attrs: {}, infer: same });

const binary = (op: string): OpSpec => ({
  op,
  since: 13,
  minInputs: 2,
  maxInputs: 2,
  attrs: {},
  infer: (ctx) => {
    const a = input(ctx, 0);
    const b = input(ctx, 1);
    return [{ dtype: a.dtype, shape: broadcast(ctx.where, a.shape, b.shape) }];
  },
});

/** The ops the IR supports, as data. Forms are the ONNX ones from opset 13 unless `since` says otherwise. */
export const OPS: Readonly<Record<string, OpSpec>> = {
  Conv: {
    op: 'Conv',
    since: 11,
    minInputs: 2,
    maxInputs: 3,
    attrs: { kernel_shape: 'ints', strides: 'ints', pads: 'ints', dilations: 'ints', group: 'int', auto_pad: 'string' },
    roles: { 1: 'weight', 2: 'bias' },
    infer: inferConv,
    macs: convMacs,
  },
  BatchNormalization: {
    op: 'BatchNormalization',
    since: 9,
    minInputs: 5,
    maxInputs: 5,
    attrs: { epsilon: 'float', momentum: 'float', training_mode: 'int' },
    requiredAttrs: ['epsilon'],
    onnxDefaults: { epsilon: { kind: 'float', value: 1e-5 } },
    roles: { 1: 'weight', 2: 'bias', 3: 'stat', 4: 'stat' },
    infer: inferBatchNorm,
  },
  Gemm: {
    op: 'Gemm',
    since: 13,
    minInputs: 2,
    maxInputs: 3,
    attrs: { alpha: 'float', beta: 'float', transA: 'int', transB: 'int' },
    roles: { 1: 'weight', 2: 'bias' },
    infer: inferGemm,
    macs: gemmMacs,
  },
  Relu: elementwise('Relu'),
  Sigmoid: elementwise('Sigmoid'),
  Identity: elementwise('Identity'),
  HardSwish: { ...elementwise('HardSwish'), since: 14 },
  HardSigmoid: {
    ...elementwise('HardSigmoid'),
    since: 6,
    attrs: { alpha: 'float', beta: 'float' },
    requiredAttrs: ['alpha', 'beta'],
    onnxDefaults: { alpha: { kind: 'float', value: 0.2 }, beta: { kind: 'float', value: 0.5 } },
  },
  Clip: {
    op: 'Clip',
    since: 13,
    minInputs: 1,
    maxInputs: 3,
    attrs: {},
    roles: { 1: 'const', 2: 'const' },
    infer: inferClip,
  },
  Dropout: {
    op: 'Dropout',
    since: 13,
    minInputs: 1,
    maxInputs: 3,
    attrs: { seed: 'int' },
    infer: (ctx) => [input(ctx, 0), { dtype: 'bool', shape: input(ctx, 0).shape }], // output, optional mask
  },
  Add: binary('Add'),
  Mul: binary('Mul'),
  GlobalAveragePool: {
    op: 'GlobalAveragePool',
    since: 1,
    minInputs: 1,
    maxInputs: 1,
    attrs: {},
    infer: inferGlobalPool,
  },
  AveragePool: {
    op: 'AveragePool',
    since: 11,
    minInputs: 1,
    maxInputs: 1,
    attrs: {
      kernel_shape: 'ints',
      strides: 'ints',
      pads: 'ints',
      count_include_pad: 'int',
      ceil_mode: 'int',
      auto_pad: 'string',
    },
    infer: inferAveragePool,
  },
  ReduceMean: {
    op: 'ReduceMean',
    since: 13,
    minInputs: 1,
    maxInputs: 1,
    attrs: { axes: 'ints', keepdims: 'int' },
    infer: inferReduceMean,
  },
  Flatten: { op: 'Flatten', since: 13, minInputs: 1, maxInputs: 1, attrs: { axis: 'int' }, infer: inferFlatten },
  // The data input is a parameter when it is stored (LayerScale's gamma: timm keeps [C], the graph multiplies by [C, 1, 1]).
  Reshape: {
    op: 'Reshape',
    since: 5,
    minInputs: 2,
    maxInputs: 2,
    attrs: { allowzero: 'int' },
    roles: { 0: 'weight', 1: 'const' },
    infer: inferReshape,
  },
  // Only the AVX2 emulation of quantized convs (passes/quantize/emulate-u8s8.ts) writes it: padding with a code.
  Pad: {
    op: 'Pad',
    since: 13,
    minInputs: 2,
    maxInputs: 3,
    attrs: { mode: 'string' },
    roles: { 1: 'const', 2: 'const' },
    infer: inferPad,
  },
  Transpose: { op: 'Transpose', since: 13, minInputs: 1, maxInputs: 1, attrs: { perm: 'ints' }, infer: inferTranspose },
  MatMul: { op: 'MatMul', since: 13, minInputs: 2, maxInputs: 2, attrs: {}, infer: inferMatMul, macs: matMulMacs },
  Div: binary('Div'),
  Erf: elementwise('Erf'),
  Tanh: elementwise('Tanh'),
  // ONNX Gelu exists from opset 20; onnx/opset.ts writes it as Erf (or Tanh) arithmetic below that.
  Gelu: {
    ...elementwise('Gelu'),
    since: 20,
    attrs: { approximate: 'string' },
    onnxDefaults: { approximate: { kind: 'string', value: 'none' } },
  },
  Softmax: { op: 'Softmax', since: 13, minInputs: 1, maxInputs: 1, attrs: { axis: 'int' }, infer: same },
  // Quantized graphs in QDQ form: a stored int8 weight is a parameter read through DequantizeLinear.
  QuantizeLinear: {
    op: 'QuantizeLinear',
    since: 13,
    minInputs: 2,
    maxInputs: 3,
    attrs: { axis: 'int', saturate: 'int' },
    roles: { 1: 'scale', 2: 'zero-point' },
    infer: inferQuantize,
  },
  DequantizeLinear: {
    op: 'DequantizeLinear',
    since: 13,
    minInputs: 2,
    maxInputs: 3,
    attrs: { axis: 'int' },
    roles: { 0: 'weight', 1: 'scale', 2: 'zero-point' },
    infer: inferDequantize,
  },
  // Half-precision graphs keep float32 at their edges (and around ops that need it) with Casts.
  Cast: {
    op: 'Cast',
    since: 13,
    minInputs: 1,
    maxInputs: 1,
    attrs: { to: 'int', saturate: 'int' },
    requiredAttrs: ['to'],
    infer: inferCast,
  },
  // --- Dense prediction (issue 26: SSDLite heads, LRASPP and DeepLabV3 decoders) ---
  // Resize in its opset-13 form (X, roi, scales, sizes); the models write `scales` (batch-free, so a dynamic batch
  // needs no computed sizes) with mode linear and half_pixel: torch's F.interpolate(bilinear, align_corners=False).
  Resize: {
    op: 'Resize',
    since: 13,
    minInputs: 1,
    maxInputs: 4,
    attrs: {
      mode: 'string',
      coordinate_transformation_mode: 'string',
      nearest_mode: 'string',
      cubic_coeff_a: 'float',
      exclude_outside: 'int',
      extrapolation_value: 'float',
    },
    onnxDefaults: {
      mode: { kind: 'string', value: 'nearest' },
      coordinate_transformation_mode: { kind: 'string', value: 'half_pixel' },
    },
    roles: { 1: 'const', 2: 'const', 3: 'const' },
    float32Inputs: [2],
    infer: inferResize,
  },
  Concat: {
    op: 'Concat',
    since: 13,
    minInputs: 1,
    maxInputs: 2 ** 16,
    attrs: { axis: 'int' },
    requiredAttrs: ['axis'],
    infer: inferConcat,
  },
  // --- end of dense prediction ---
  // SSD's postprocessing in the graph (detection/graph-postprocess.ts): box decode, per-class threshold and top-k,
  // NonMaxSuppression, the best detections per image and their padding. Constant index inputs are 'const'.
  Sub: binary('Sub'),
  Exp: elementwise('Exp'),
  Greater: { ...binary('Greater'), infer: inferCompare },
  Less: { ...binary('Less'), infer: inferCompare },
  Where: { op: 'Where', since: 9, minInputs: 3, maxInputs: 3, attrs: {}, infer: inferWhere },
  Slice: {
    op: 'Slice',
    since: 13,
    minInputs: 3,
    maxInputs: 5,
    attrs: {},
    roles: { 1: 'const', 2: 'const', 3: 'const', 4: 'const' },
    infer: inferSlice,
  },
  TopK: {
    op: 'TopK',
    since: 11,
    minInputs: 2,
    maxInputs: 2,
    attrs: { axis: 'int', largest: 'int', sorted: 'int' },
    roles: { 1: 'const' },
    infer: inferTopK,
  },
  Gather: { op: 'Gather', since: 13, minInputs: 2, maxInputs: 2, attrs: { axis: 'int' }, infer: inferGather },
  GatherND: {
    op: 'GatherND',
    since: 12,
    minInputs: 2,
    maxInputs: 2,
    attrs: { batch_dims: 'int' },
    infer: inferGatherND,
  },
  ScatterND: { op: 'ScatterND', since: 13, minInputs: 3, maxInputs: 3, attrs: {}, infer: inferScatterND },
  NonMaxSuppression: {
    op: 'NonMaxSuppression',
    since: 11,
    minInputs: 2,
    maxInputs: 5,
    attrs: { center_point_box: 'int' },
    roles: { 2: 'const', 3: 'const', 4: 'const' },
    infer: inferNms,
  },
  ReduceSum: {
    op: 'ReduceSum',
    since: 13,
    minInputs: 1,
    maxInputs: 2,
    attrs: { keepdims: 'int', noop_with_empty_axes: 'int' },
    roles: { 1: 'const' },
    infer: inferReduceSum,
  },
};

export const SUPPORTED_OPS = Object.keys(OPS).sort();

function opSpec(node: Node, where: string): OpSpec {
  const spec = OPS[node.op];
  if (!spec) throw new GraphError('unknown-op', where, `one of ${SUPPORTED_OPS.join(', ')}`, `op '${node.op}'`);
  return spec;
}

/** Checks arity and attribute kinds of a node against the op table. */
export function checkNode(node: Node, where: string): OpSpec {
  const spec = opSpec(node, where);
  const n = node.inputs.length;
  if (n < spec.minInputs || n > spec.maxInputs) {
    const range = spec.minInputs === spec.maxInputs ? `${spec.minInputs}` : `${spec.minInputs}-${spec.maxInputs}`;
    throw new GraphError('arity', where, `${range} inputs for ${node.op}`, `${n}`);
  }
  for (const [name, attr] of Object.entries(node.attrs) as [string, Attr][]) {
    const kind = spec.attrs[name];
    if (!kind)
      throw new GraphError(
        'unknown-attr',
        `${where} attribute '${name}'`,
        `one of [${Object.keys(spec.attrs).join(', ')}]`,
        `'${name}'`,
      );
    if (kind !== attr.kind)
      throw new GraphError(
        'attr-kind',
        `${where} attribute '${name}'`,
        `kind ${kind.toUpperCase()}`,
        `kind ${attr.kind.toUpperCase()}`,
      );
    const nums = attr.kind === 'string' ? [] : attr.kind === 'int' || attr.kind === 'float' ? [attr.value] : attr.value;
    if (
      nums.some((v) => !Number.isFinite(v)) ||
      ((kind === 'int' || kind === 'ints') && nums.some((v) => !Number.isInteger(v)))
    ) {
      throw new GraphError(
        'attr-value',
        `${where} attribute '${name}'`,
        `finite ${kind.toUpperCase()} values`,
        JSON.stringify(attr.value),
      );
    }
  }
  for (const name of spec.requiredAttrs ?? []) {
    if (!node.attrs[name])
      throw new GraphError('missing-attr', where, `attribute '${name}' (ONNX's default differs from ours)`, 'none');
  }
  return spec;
}
