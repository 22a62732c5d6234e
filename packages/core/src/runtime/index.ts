export * from './session.js';
export { ImageModelSession, type RuntimeHooks } from './classifier.js';
export { openSession, type Engine, type EngineSession } from './open.js';
export { checkRgbImage, preprocess, preprocessKernels, resizePlan, type PreprocessKernels, type RgbImage, type ResizePlan } from './preprocess.js';
export { softmax, topK, type Prediction } from './postprocess.js';
export { IMAGENET_LABELS } from './imagenet-labels.js';
