import { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/graph.js';
import { type ParamFiller, noParams } from '../ir/params.js';
import { torchvisionFill } from './fill.js';
import { CONVENTION } from './convention.js';
import { type ModelConfig, type ModelOptions, resolveOptions } from './options.js';
import { mobilenetV1 } from './v1.js';
import { mobilenetV2 } from './v2.js';
import { mobilenetV3 } from './v3.js';
import { isV4, mobilenetV4 } from './v4.js';
import { V4_CONVENTION, type V4Convention } from './v4-convention.js';

export interface Model {
  readonly config: ModelConfig;
  readonly graph: Graph;
}

const BUILDERS = {
  v1: mobilenetV1, v2: mobilenetV2, 'v3-large': mobilenetV3, 'v3-small': mobilenetV3,
  'v4-conv-small': mobilenetV4, 'v4-conv-medium': mobilenetV4, 'v4-conv-large': mobilenetV4, 'v4-hybrid-medium': mobilenetV4, 'v4-hybrid-large': mobilenetV4,
} as const;

function paramFiller(weights: ModelOptions['weights']): ParamFiller {
  if (weights === null) return noParams;
  if (typeof weights === 'function') return weights;
  return torchvisionFill(weights ?? 0);
}

/** Metadata a consumer needs to feed and read the model: what it is and how to preprocess images for it. */
function metadata(cfg: ModelConfig): Record<string, string> {
  const pre = isV4(cfg.arch)
    ? V4_CONVENTION[cfg.convention as V4Convention].preprocessing(cfg.arch, cfg.width, cfg.resolution)
    : CONVENTION[cfg.convention].preprocessing(cfg.arch, cfg.resolution);
  return {
    'mobilenet.config': JSON.stringify({
      arch: cfg.arch, width: cfg.width, resolution: cfg.resolution, classes: cfg.classes, convention: cfg.convention,
      minimalistic: cfg.minimalistic, reducedTail: cfg.reducedTail, dilated: cfg.dilated, dropout: cfg.dropout, bnEps: cfg.bnEps,
    }),
    'mobilenet.preprocessing': JSON.stringify(pre),
    'mobilenet.labels': cfg.classes === 1001 ? 'imagenet-1001' : cfg.classes === 1000 ? 'imagenet-1000' : 'custom',
  };
}

export function modelName(cfg: ModelConfig): string {
  const mini = cfg.minimalistic ? '_minimalistic' : '';
  return `mobilenet_${cfg.arch.replace(/-/g, '_')}${mini}_${cfg.width}_${cfg.resolution}`;
}

/** Builds a MobileNet as an IR graph with input 'input' [batch, 3, R, R] and output 'logits' [batch, classes]. */
export function buildModel(options: ModelOptions): Model {
  const cfg = resolveOptions(options);
  const b = new GraphBuilder(modelName(cfg), { fill: paramFiller(options.weights) });
  Object.assign(b.metadata, metadata(cfg));
  const input = b.input('input', [cfg.batch, 3, cfg.resolution, cfg.resolution]);
  BUILDERS[cfg.arch]({ b, cfg }, input);
  return { config: cfg, graph: b.build() };
}
