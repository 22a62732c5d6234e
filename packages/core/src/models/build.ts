import { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/graph.js';
import { type ParamFiller, noParams } from '../ir/params.js';
import { modelMetadata } from '../metadata/write.js';
import { torchvisionFill } from './fill.js';
import { type ModelConfig, type ModelOptions, resolveOptions } from './options.js';

export interface Model {
  readonly config: ModelConfig;
  readonly graph: Graph;
}

function paramFiller(weights: ModelOptions['weights']): ParamFiller {
  if (weights === null) return noParams;
  if (typeof weights === 'function') return weights;
  return torchvisionFill(weights ?? 0);
}

/** Metadata a consumer needs to feed and read the model: what it is and how to preprocess images for it. */
function metadata(cfg: ModelConfig, weights: 'trained' | 'seeded' | 'none'): Record<string, string> {
  const { arch, width, resolution, classes, convention, minimalistic, reducedTail, dilated, dropout, bnEps } = cfg;
  const config = { arch, width, resolution, classes, convention, minimalistic, reducedTail, dilated, dropout, bnEps };
  const dense = cfg.family.dense;
  if (!dense) return modelMetadata({ ...config, weights }, cfg.preprocessing);
  return { ...modelMetadata({ ...config, ...dense.config(cfg), weights }, cfg.preprocessing), ...dense.metadata(cfg) };
}

export function modelName(cfg: ModelConfig): string {
  const mini = cfg.minimalistic ? '_minimalistic' : '';
  return `mobilenet_${cfg.arch.replace(/-/g, '_')}${mini}_${cfg.width}_${cfg.resolution}`;
}

/**
 * Builds a MobileNet as an IR graph with input 'input' [batch, 3, R, R] and output 'logits' [batch, classes]; a
 * detection or segmentation family names its own input and outputs (its `dense` entry).
 */
export function buildModel(options: ModelOptions): Model {
  const cfg = resolveOptions(options);
  const b = new GraphBuilder(modelName(cfg), { fill: paramFiller(options.weights) });
  Object.assign(b.metadata, metadata(cfg, options.weights === null ? 'none' : options.trained ? 'trained' : 'seeded'));
  const input = b.input(cfg.family.dense?.input ?? 'input', [cfg.batch, 3, cfg.resolution, cfg.resolution]);
  cfg.family.build({ b, cfg }, input);
  return { config: cfg, graph: b.build() };
}
