export { checkPreprocessing, MAX_RESIZE, parsePreprocessing } from './metadata.js';
export { IMAGENET_LABELS } from './imagenet-labels.js';
export { LABELS_KEY, MAX_LABEL_LENGTH, checkLabels, metadataLabels, withLabels } from './labels.js';
