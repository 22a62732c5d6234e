import type { SessionOptions } from '@mobilenet/core';
import type { OrtSettings } from './ort.js';
import type { WebHubOptions } from './pretrained.js';

export interface WebSessionOptions extends SessionOptions, OrtSettings {
  readonly maxBatch?: number;
  /** For a pretrained name: endpoints, Cache Storage, offline mode, progress. */
  readonly hub?: WebHubOptions;
}
