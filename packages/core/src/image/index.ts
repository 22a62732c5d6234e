export {
  checkRgbImage,
  preprocess,
  preprocessKernels,
  resizePlan,
  type PreprocessKernels,
  type RgbImage,
  type ResizePlan,
} from './preprocess.js';
