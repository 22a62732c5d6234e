import { MobileNetError } from '../ir/errors.js';
import type { ModelOptions } from '../models/options.js';
import { type LoadedModel, buildWithWeights } from '../weights/load.js';
import type { Checkpoint } from '../weights/tensor.js';
import { LABELS_KEY, METADATA_KEYS } from '../metadata/keys.js';
import type { Preprocessing } from '../metadata/preprocessing.js';
import { weightsMetadata } from '../metadata/write.js';
import { type TimmConfig, timmArchitecture } from './timm.js';
import { type TorchvisionWeights, torchvisionWeightsPreprocessing } from './torchvision.js';

/** Where trained weights came from, recorded in an exported file's metadata ('mobilenet.weights', JSON). */
export interface WeightsRecord {
  /** The name as resolved, e.g. 'torchvision:mobilenet_v3_large.IMAGENET1K_V2'. */
  readonly name: string;
  readonly url: string;
  readonly sha256: string;
  /** The license the source states (timm's pretrained_cfg); absent when it states none (torchvision's enums). */
  readonly license?: string;
  /** The category list, e.g. 'imagenet (1000)'. */
  readonly categories: string;
}

/** How to build the model that named weights belong to, and what to record about them. */
export interface PretrainedSpec {
  readonly options: Pick<ModelOptions, 'arch' | 'width' | 'convention' | 'minimalistic' | 'resolution' | 'classes'>;
  readonly preprocessing: Preprocessing;
  /** Class names when the source gives its own (timm's label_names); otherwise the runtime's ImageNet labels. */
  readonly labels?: readonly string[];
  readonly record: WeightsRecord;
}

/**
 * The metadata key of the weights' record.
 * @internal
 */
export const WEIGHTS_METADATA_KEY = METADATA_KEYS.weights;
/** The metadata key of class names a model carries itself (a JSON list of strings): the runtime's LABELS_KEY. */
export const LABELS_METADATA_KEY = LABELS_KEY;

/** torchvision weights: the arch they are for, torchvision's convention, its transforms (resize 232 for V2). */
export function torchvisionSpec(w: TorchvisionWeights, name: string, url: string, sha256: string): PretrainedSpec {
  if (!w.build || w.transforms.kind !== 'classification')
    throw new MobileNetError(
      'weights-unsupported',
      `weights '${name}'`,
      'classification weights (the models this package builds)',
      `${w.model}, a ${w.transforms.kind} model (its own issue: not built yet)`,
    );
  return {
    options: { arch: w.build.arch, width: w.build.width, convention: 'torchvision' },
    preprocessing: torchvisionWeightsPreprocessing(w.transforms),
    record: { name, url, sha256, categories: `${w.categories.name} (${w.categories.count})` },
  };
}

/** timm weights: the architecture's arch/width/convention, the config's classes, input size and preprocessing. */
export function timmSpec(cfg: TimmConfig, name: string, url: string, sha256: string, where: string): PretrainedSpec {
  const a = timmArchitecture(cfg.architecture, `${where}: architecture`);
  const categories =
    cfg.numClasses === 1000 ? 'imagenet (1000)' : `${cfg.labelNames ? 'label_names' : 'unnamed'} (${cfg.numClasses})`;
  return {
    options: {
      arch: a.arch,
      width: a.width,
      convention: a.convention,
      ...(a.minimalistic && { minimalistic: true }),
      resolution: cfg.preprocessing.size,
      classes: cfg.numClasses,
    },
    preprocessing: cfg.preprocessing,
    // ImageNet-1k's label_names are WordNet ids (n01440764): the runtime's words read better for the same order.
    ...(cfg.labelNames && cfg.numClasses !== 1000 && { labels: cfg.labelNames }),
    record: { name, url, sha256, ...(cfg.license && { license: cfg.license }), categories },
  };
}

/**
 * Builds the model for named weights: the spec's arch and convention with the caller's other options (embedding,
 * batch, ...), every key and shape checked, and the weights' preprocessing, record and labels in the metadata.
 * A resolution other than the weights' keeps their crop ratio, mean, std and interpolation.
 */
export function buildPretrained(
  spec: PretrainedSpec,
  ckpt: Checkpoint,
  options: Omit<ModelOptions, 'arch'> = {},
): LoadedModel {
  for (const key of ['width', 'convention', 'minimalistic', 'classes'] as const) {
    const given = options[key];
    const theirs = spec.options[key];
    if (given !== undefined && theirs !== undefined && given !== theirs)
      throw new MobileNetError(
        'option',
        `option ${key}`,
        `${theirs} (what '${spec.record.name}' is) or nothing`,
        String(given),
      );
  }
  const resolution = options.resolution ?? spec.options.resolution;
  const model = buildWithWeights({ ...options, ...spec.options, ...(resolution && { resolution }) }, ckpt, {
    source: spec.record.name,
  });
  const size = model.config.resolution;
  const pre = spec.preprocessing;
  const preprocessing: Preprocessing =
    size === pre.size ? pre : { ...pre, size, resize: Math.max(size, Math.floor((size * pre.resize) / pre.size)) };
  const metadata = { ...model.graph.metadata, ...weightsMetadata(preprocessing, spec.record, spec.labels) };
  return { ...model, config: { ...model.config, preprocessing }, graph: { ...model.graph, metadata } };
}
