import type { Graph } from '../ir/graph.js';
import { OPS } from '../ir/ops.js';
// Registers v1-v4 before `keyMap` looks an arch up, whichever module a caller imported first.
import '../models/builtin.js';
import type { Convention, Family, WeightsFormat } from '../models/contract.js';
import { familyFor } from '../models/registry.js';

export type { WeightsFormat } from '../models/contract.js';
export const WEIGHTS_FORMATS: readonly WeightsFormat[] = ['torchvision', 'timm'];

/**
 * The conventions of the models that write each key layout; a checkpoint is built with the first unless told
 * otherwise. timm's `tf_` models (convention 'timm-tf') share timm's keys: nothing in the file tells them apart.
 */
export const LAYOUT_CONVENTIONS: Readonly<Record<WeightsFormat, readonly [Convention, ...Convention[]]>> = {
  torchvision: ['torchvision'],
  timm: ['timm', 'timm-tf'],
};

/** Parameters (and BN statistics) of a graph, by module, in forward order: 'features.3.conv.1.0' -> ['weight']. */
export function modules(graph: Graph): Map<string, string[]> {
  const owned = new Set<string>();
  for (const n of graph.nodes)
    n.inputs.forEach((name, i) => {
      const role = OPS[n.op]!.roles?.[i];
      if (role && role !== 'const') owned.add(name);
    });
  const out = new Map<string, string[]>();
  for (const init of graph.initializers) {
    if (!owned.has(init.name)) continue;
    const dot = init.name.lastIndexOf('.');
    const [mod, param] = [init.name.slice(0, dot), init.name.slice(dot + 1)];
    out.set(mod, [...(out.get(mod) ?? []), param]);
  }
  return out;
}

/**
 * timm's module names inside one block, by the block's shape: depthwise-separable ('ds', 'dsa'), inverted
 * residual ('ir'), with or without squeeze-excite, or a plain conv-BN ('cn').
 */
function timmBlock(mods: readonly string[]): readonly string[] {
  const se = mods.some((m) => m.endsWith('.fc1'));
  switch (`${mods.length}${se ? 'se' : ''}`) {
    case '2':
      return ['conv', 'bn1'];
    case '4':
      return ['conv_dw', 'bn1', 'conv_pw', 'bn2'];
    case '6se':
      return ['conv_dw', 'bn1', 'se.conv_reduce', 'se.conv_expand', 'conv_pw', 'bn2'];
    case '6':
      return ['conv_pw', 'bn1', 'conv_dw', 'bn2', 'conv_pwl', 'bn3'];
    case '8se':
      return ['conv_pw', 'bn1', 'conv_dw', 'bn2', 'se.conv_reduce', 'se.conv_expand', 'conv_pwl', 'bn3'];
    default:
      throw new Error(`no timm layout for a block of modules ${mods.join(', ')}`);
  }
}

/**
 * The layout whose keys `keyMap` gives for a family asked for `format`: the format itself when the family ships in
 * it, else the family's native layout (a v3 torchvision checkpoint given to v4 is then checked against v4's timm
 * keys, and the check lists what differs).
 */
export function mappedLayout(family: Family, format: WeightsFormat): WeightsFormat {
  return format === family.weights.native || (format === 'timm' && family.weights.timm)
    ? format
    : family.weights.native;
}

/**
 * Maps each of our parameter names to its key in a checkpoint of `format`: the identity for the family's native
 * layout (or a layout it has no mapping to, so that the key check lists what differs); timm's `blocks.{stage}.{i}`
 * grouping, from the family's stage lengths, for v1-v3.
 */
export function keyMap(graph: Graph, arch: string, format: WeightsFormat): Map<string, string> {
  const family = familyFor(arch);
  const mods = modules(graph);
  const map = new Map<string, string>();
  const add = (ours: string, theirs: string) => {
    for (const p of mods.get(ours) ?? []) map.set(`${ours}.${p}`, `${theirs}.${p}`);
  };
  const timm = family.weights.timm;
  if (mappedLayout(family, format) === family.weights.native || !timm) {
    for (const [m, ps] of mods) for (const p of ps) map.set(`${m}.${p}`, `${m}.${p}`);
    return map;
  }
  const byBlock = new Map<string, string[]>();
  for (const m of mods.keys()) {
    const block = m.split('.').slice(0, 2).join('.');
    byBlock.set(block, [...(byBlock.get(block) ?? []), m]);
  }
  add('features.0.0', 'conv_stem');
  add('features.0.1', 'bn1');
  let k = 1;
  timm.stages(arch).forEach((len, s) => {
    for (let j = 0; j < len; j++, k++) {
      const ours = byBlock.get(`features.${k}`) ?? [];
      timmBlock(ours).forEach((name, i) => {
        add(ours[i]!, `blocks.${s}.${j}.${name}`);
      });
    }
  });
  for (const [ours, theirs] of timm.head(k)) add(ours, theirs);
  return map;
}

/**
 * Guesses the key layout of a checkpoint from its names: a classifier's first conv, timm's stem, or (given the
 * family) the family's classifier in its native layout (a detector's or segmenter's keys start elsewhere).
 */
export function detectFormat(keys: Iterable<string>, family?: Family): WeightsFormat | null {
  const set = new Set(keys);
  if (set.has('features.0.0.weight')) return 'torchvision';
  if (set.has('conv_stem.weight')) return 'timm';
  if (family && set.has(formatEvidence(family.weights.native, family))) return family.weights.native;
  return null;
}

/** The key whose presence says a layout: the classifiers' stems, or a detection or segmentation family's head. */
export function formatEvidence(format: WeightsFormat, family: Family): string {
  const own = family.weights.classifier[format];
  if (family.dense && own) return `${own}.weight`;
  return format === 'timm' ? 'conv_stem.weight' : 'features.0.0.weight';
}
