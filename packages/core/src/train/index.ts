// Training heads on embeddings (issue 27): pure TypeScript over typed arrays, for Node, pages and Web Workers.
export { Adam, type AdamLoopOptions, type AdamLoopResult, type EpochRecord, trainAdam } from './adam.js';
export { KnnFormatError, TrainError } from './errors.js';
export {
  type Head,
  type HeadKind,
  type HeadWeights,
  type Prediction,
  predict,
  type ResolvedOptions,
  type TrainedHead,
  type TrainHeadOptions,
  trainHead,
} from './head.js';
export {
  KNN_FORMAT,
  KNN_VERSION,
  KnnClassifier,
  type KnnJson,
  type KnnNeighbor,
  type KnnPrediction,
  type KnnWeighting,
} from './knn.js';
export { type LbfgsOptions, type LbfgsResult, minimizeLbfgs, type ValueAndGradient } from './lbfgs.js';
export { fitLinearLbfgs, type LbfgsFit, type LbfgsFitOptions, linearModel } from './linear.js';
export { type ClassReport, classificationReport, confusionMatrix, formatConfusion, type Report } from './metrics.js';
export { mlpInit, mlpModel } from './mlp.js';
export { Rng } from './rng.js';
export { type LossTerms, type Rows, softmaxCrossEntropy, type Trainable } from './softmax.js';
export { type Split, stratifiedSplit } from './split.js';
