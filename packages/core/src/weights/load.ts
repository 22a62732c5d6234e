import type { ParamRequest } from '../ir/params.js';
import { type Model, buildModel } from '../models/build.js';
import type { Convention, Family } from '../models/contract.js';
import type { ModelOptions } from '../models/options.js';
import { familyFor } from '../models/registry.js';
import {
  LAYOUT_CONVENTIONS,
  type WeightsFormat,
  detectFormat,
  formatEvidence,
  keyMap,
  mappedLayout,
} from './mapping.js';
import { type Checkpoint, CheckpointError, toFloat32 } from './tensor.js';

export interface LoadOptions {
  /** Key layout of the checkpoint; 'auto' detects it from the keys. */
  readonly format?: WeightsFormat | 'auto';
  /** Names the file in errors. */
  readonly source?: string;
}

export interface LoadedModel extends Model {
  readonly format: WeightsFormat;
  /** What 'auto' saw, e.g. "timm (found conv_stem.weight)". */
  readonly detected?: string;
  /** Where `config.convention` came from: the caller's option, or the key layout (when the option was not given). */
  readonly conventionFrom: 'option' | 'layout';
  /** One line on the convention used and why, e.g. "convention torchvision, from the torchvision key layout". */
  readonly conventionNote: string;
  /** Set when the given convention is not one the key layout's models use: the model is built as asked, and says so. */
  readonly warning?: string;
}

interface ConventionChoice {
  readonly convention: Convention;
  readonly from: LoadedModel['conventionFrom'];
  readonly note: string;
  readonly warning?: string;
}

/**
 * A checkpoint's key layout says which implementation wrote it, and so how to build the model its numbers belong
 * to (padding, BN epsilon, head): without an explicit convention, follow the layout; with one that contradicts
 * it, build as asked but warn, naming both.
 */
function chooseConvention(
  given: Convention | undefined,
  format: WeightsFormat,
  family: Family,
  source: string,
): ConventionChoice {
  // A layout the family never ships in (torchvision keys for v4): its own default, and the key check says what differs.
  const layout = LAYOUT_CONVENTIONS[format];
  const usual = layout.filter((c) => family.conventions.includes(c));
  const tfHint = format === 'timm' && usual.includes('timm-tf') ? "; timm's tf_ models need convention timm-tf" : '';
  if (given === undefined && !usual[0])
    return {
      convention: family.defaultConvention,
      from: 'layout',
      note: `convention ${family.defaultConvention}, ${family.name}'s default (${family.name} has no ${format} models)`,
    };
  if (given === undefined)
    return {
      convention: usual[0]!,
      from: 'layout',
      note: `convention ${usual[0]}, from the ${format} key layout${tfHint}`,
    };
  if (usual.includes(given)) return { convention: given, from: 'option', note: `convention ${given}, as given` };
  const warning =
    `${source}: convention ${given} was given, but the checkpoint has ${format} keys, whose models use convention ` +
    `${layout.join(' or ')}; building with ${given} as asked (padding, BN epsilon or head may not be the ones these weights were trained with)`;
  return {
    convention: given,
    from: 'option',
    note: `convention ${given}, as given (against the ${format} key layout)`,
    warning,
  };
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);
/** A 1x1 conv head stored where we have a Linear (timm's conv_head) or the reverse: same values, other dims. */
const squeezable = (a: readonly number[], b: readonly number[]) => {
  const strip = (s: readonly number[]) => [...s].filter((d, i) => i < 2 || d !== 1);
  return sameShape(strip(a), strip(b));
};

/** The classifier's weight in a layout; a layout the family has no models in is read as its native one. */
function classifierKey(format: WeightsFormat, family: Family): string {
  const { classifier, native } = family.weights;
  return `${classifier[format] ?? classifier[native]}.weight`;
}

/**
 * Builds a model carrying a checkpoint's weights: maps its keys onto ours (torchvision: identity; timm: its
 * conv_stem/blocks/conv_head layout), builds with the layout's convention unless one is given (see
 * `chooseConvention`), checks every key and shape, takes the class count from the classifier, and refuses NaN or
 * Inf weights. Errors name the file, the key, what was expected and what was found.
 */
export function buildWithWeights(options: ModelOptions, ckpt: Checkpoint, load: LoadOptions = {}): LoadedModel {
  const source = load.source ?? 'checkpoint';
  const family = familyFor(options.arch);
  const detectedFormat = detectFormat(ckpt.keys(), family);
  const format = !load.format || load.format === 'auto' ? detectedFormat : load.format;
  if (!format) {
    const some = [...ckpt.keys()].slice(0, 3).join(', ');
    throw new CheckpointError(
      source,
      'torchvision keys (features.0.0.weight, ...) or timm keys (conv_stem.weight, ...)',
      `keys ${some}`,
      'pass the format explicitly if the keys are right',
    );
  }
  const headKey = classifierKey(format, family);
  const head = ckpt.get(headKey);
  const rows = head?.shape[0];
  const perClass = family.weights.rowsPerClass ?? 1;
  const classes = rows !== undefined && rows % perClass === 0 ? rows / perClass : undefined;
  if (options.classes !== undefined && classes !== undefined && options.classes !== classes) {
    throw new CheckpointError(
      `${source}: tensor '${headKey}'`,
      `${options.classes} classes (option classes)`,
      `${classes} (shape [${head!.shape.join(', ')}])`,
    );
  }
  const choice = chooseConvention(options.convention, format, family, source);
  // Options the keys decide (DeepLabV3's aux head) unless given: a given one that disagrees fails the key check.
  const fromKeys = family.weights.optionsFromKeys?.((k) => ckpt.has(k)) ?? {};
  const opts: ModelOptions = {
    ...fromKeys,
    ...options,
    convention: choice.convention,
    ...(classes !== undefined && { classes }),
  };
  const skeleton = buildModel({ ...opts, weights: null });
  const map = keyMap(skeleton.graph, skeleton.config.arch, format);
  const shapes = new Map(skeleton.graph.initializers.map((i) => [i.name, i.dims]));
  const wanted = new Set(map.values());
  const unexpected = [...ckpt.keys()].filter((k) => !wanted.has(k) && !k.endsWith('num_batches_tracked'));
  const missing = [...map].filter(([, theirs]) => !ckpt.has(theirs)).map(([, t]) => t);
  const arch = `${skeleton.config.arch} width ${skeleton.config.width}${skeleton.config.minimalistic ? ' minimalistic' : ''}`;
  if (missing.length || unexpected.length) {
    const list = (xs: string[]) => `${xs.slice(0, 4).join(', ')}${xs.length > 4 ? ` and ${xs.length - 4} more` : ''}`;
    const layout = mappedLayout(family, format);
    const found =
      layout === format ? '' : `${family.name} checkpoints have ${layout} keys; this one has ${format} keys: `;
    throw new CheckpointError(
      source,
      `the ${map.size} ${layout} keys of ${arch}`,
      [
        missing.length ? `${missing.length} missing (${list(missing)})` : '',
        unexpected.length ? `${unexpected.length} unexpected (${list(unexpected)})` : '',
      ]
        .filter(Boolean)
        .join('; '),
      `${found}a checkpoint for another architecture, or the wrong --weights-format?`,
    );
  }
  for (const [ours, theirs] of map) {
    const t = ckpt.get(theirs)!;
    const want = shapes.get(ours)!;
    if (!sameShape(t.shape, want) && !squeezable(t.shape, want)) {
      throw new CheckpointError(
        `${source}: tensor '${theirs}'`,
        `shape [${want.join(', ')}] for ${arch}`,
        `[${t.shape.join(', ')}]`,
        'a checkpoint for another architecture or width?',
      );
    }
  }
  const init = ({ name }: ParamRequest) => {
    const key = map.get(name)!;
    const data = toFloat32(ckpt.get(key)!, `${source}: tensor '${key}'`);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!))
        throw new CheckpointError(`${source}: tensor '${key}'`, 'finite weights', `${data[i]} at flat index ${i}`);
    }
    return data;
  };
  const model = buildModel({ ...opts, weights: init, trained: true });
  return {
    ...model,
    format,
    ...(detectedFormat && {
      detected: `${detectedFormat} (found ${formatEvidence(detectedFormat, family)})`,
    }),
    conventionFrom: choice.from,
    conventionNote: choice.note,
    ...(choice.warning && { warning: choice.warning }),
  };
}
