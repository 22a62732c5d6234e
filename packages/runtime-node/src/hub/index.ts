export { HubError, type HubErrorCode } from './errors.js';
export { type HubOptions, type HubSettings, hubSettings } from './settings.js';
export type { HttpSettings } from './http.js';
export type { Progress as DownloadProgress } from './download.js';
export {
  type ResolvedWeights,
  type PretrainedModel,
  type PretrainedEntry,
  resolveWeights,
  loadPretrained,
  listPretrained,
} from './pretrained.js';
