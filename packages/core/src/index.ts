export * from './ir/tensor.js';
export * from './ir/errors.js';
export { type Attr, type AttrKind, type Node, int, float, ints, floats, str } from './ir/node.js';
export { OPS, SUPPORTED_OPS, type OpSpec, type InputRole } from './ir/ops.js';
export { type Graph, checkGraph } from './ir/graph.js';
export { GraphBuilder, type BuilderOptions, type ConvOptions } from './ir/builder.js';
export { type Initialiser, type ParamKind, type ParamRequest, torchvisionInit, noWeights, rng } from './ir/init.js';
export * from './onnx/index.js';
export { analyze, type Analysis, type LayerStats } from './analysis.js';
