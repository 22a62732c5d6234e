import type { SessionOptions } from '@mobilenet/core';
import type { HubOptions } from './hub/index.js';

export interface NodeSessionOptions extends SessionOptions {
  /** onnxruntime's intra-op thread spinning: lower latency alone, but steals CPU from other sessions. Default on. */
  readonly spinning?: boolean;
  /** Largest batch run at once for models with a dynamic batch. Default 16. */
  readonly maxBatch?: number;
  /** Largest image decoded, in pixels (width x height); also the budget of pixels decoded at once. Default 100 M. */
  readonly maxPixels?: number;
  /** For a pretrained name: offline mode, caches, endpoints, progress (default: the environment's). */
  readonly hub?: HubOptions;
}
