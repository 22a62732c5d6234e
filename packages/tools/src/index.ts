// @mobilenet/tools: what measures a model rather than runs it (int8 calibration, float16 and int8 fidelity
// checks, comparing two models on a folder of images, per-operator profiles). Sessions, backends and images are
// @mobilenet/runtime-node's; these build on them.
export { calibrate, type CalibrateOptions, type Calibration } from './calibrate.js';
export { fidelity, type Fidelity } from './fidelity.js';
export { type CompareOptions, compareModels, logitsOf } from './compare.js';
export { checkFloat16, probeInputs, type Float16Check, type Float16CheckOptions } from './float16-check.js';
export { checkInt8, worstLayer, type Int8Check, type LayerFidelity } from './int8-check.js';
export { profileModel, blockOf, type ModelProfile, type ProfileRow } from './profile.js';
export { formatProfile, shareChart, stagesChart } from './profile-chart.js';
export {
  timelineChart,
  type TimelineChartInput,
  type TimelineImage,
  type TimelineRun,
  type TimelineUsage,
} from './timeline-chart.js';
