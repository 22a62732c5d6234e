import { ARCHS, type Arch, CONVENTIONS, type Convention, type Initialiser, type ModelOptions, fanInInit, torchvisionInit } from '@mobilenet/core';
import { optionError, quote } from './errors.js';
import { type Range, between, decimal, integer } from './numbers.js';
import type { OptionSpec, Values } from './parse.js';

export { parse } from './parse.js';

/**
 * Caps on what has no sane use and would take gigabytes (a 8192 input, a million classes). A user who truly
 * needs more passes --allow-large; the library itself (core) keeps only the structural rules.
 */
export const LIMITS = { resolution: 1024, classes: 32768 } as const;
const LIFT = 'pass --allow-large for more';

/** Options shared by every command that builds a model from an architecture. */
export const MODEL_OPTIONS = {
  arch: { type: 'string', expects: `one of ${ARCHS.join(', ')}` },
  width: { type: 'string', expects: 'a number from 0.05 to 4' },
  resolution: { type: 'string', expects: `a multiple of 32 from 32 to ${LIMITS.resolution}` },
  classes: { type: 'string', expects: `an integer from 1 to ${LIMITS.classes}` },
  convention: { type: 'string', expects: `one of ${CONVENTIONS.join(', ')}` },
  minimalistic: { type: 'boolean' },
  'reduced-tail': { type: 'boolean' },
  dilated: { type: 'boolean' },
  'depth-multiplier': { type: 'string', expects: 'an integer from 1 to 8' },
  expansion: { type: 'string', expects: 'a number from 1 to 16' },
  'bn-eps': { type: 'string', expects: 'a number from 1e-12 to 0.5' },
  dropout: { type: 'string', expects: 'a number from 0 to 0.99' },
  'no-top': { type: 'boolean' },
  embedding: { type: 'boolean' },
  init: { type: 'string', expects: 'one of torchvision, fan-in' },
  'allow-large': { type: 'boolean' },
} as const satisfies OptionSpec;

export const SEED_OPTION = { seed: { type: 'string', expects: 'an integer from 0 to 4294967295' } } as const satisfies OptionSpec;

export const MODEL_HELP = `Model options:
  --arch v1|v2|v3-large|v3-small   architecture (required)
  --width W                        width multiplier, 0.05 to 4 (default 1)
  --resolution R                   input size, a multiple of 32 from 32 to ${LIMITS.resolution} (default 224)
  --classes K                      output classes, 1 to ${LIMITS.classes} (default 1001 for reference, else 1000)
  --convention C                   reference|torchvision|keras|timm|timm-tf (default: with --weights, the checkpoint's; else reference)
  --minimalistic                   v3 only: no SE, no h-swish, 3x3 kernels
  --reduced-tail                   v3 only: halve the last stage and head (torchvision, for detection)
  --dilated                        v3 only: dilation 2 in the last stage, output stride 16 (for segmentation)
  --depth-multiplier D             v1 only: channels per depthwise group, 1 to 8 (default 1)
  --expansion T                    v2 only: bottleneck expansion factor, 1 to 16 (default 6)
  --bn-eps E                       BatchNorm epsilon, 1e-12 to 0.5 (default from the convention)
  --dropout P                      classifier dropout, 0 to 0.99, recorded in metadata
  --no-top                         no classifier: outputs 'features' and 'embedding'
  --embedding                      also output the pooled 'embedding'
  --init torchvision|fan-in        seeded weights: torchvision's initialisation, or fan-in scaled with random BN
                                   statistics (activations that do not vanish; default for classify --arch)
  --allow-large                    lift the caps on --resolution and --classes (and on a model file's input
                                   size and classes in classify): memory grows with them`;

type ModelValues = Values<typeof MODEL_OPTIONS>;

function oneOf<T extends string>(option: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  const hit = allowed.find((a) => a === raw);
  if (hit === undefined) throw optionError(`--${option}`, `one of ${allowed.join(', ')}`, quote(raw));
  return hit;
}

/** An option that only one family of architectures has, refused (naming both) when given with another. */
function onlyFor(option: string, given: boolean, arch: Arch, allowed: readonly Arch[]): void {
  if (given && !allowed.includes(arch)) throw optionError(`--${option}`, `--arch ${allowed.join(' or ')}`, `--arch ${arch}`);
}

export function modelOptions(values: ModelValues): ModelOptions {
  if (values.arch === undefined) throw optionError('--arch', `one of ${ARCHS.join(', ')} (required)`, 'nothing');
  const arch = oneOf('arch', values.arch, ARCHS)!;
  const large = values['allow-large'] === true;
  const resolutionRange: Range = { min: 32, max: large ? Number.MAX_SAFE_INTEGER : LIMITS.resolution, rule: `a multiple of 32 from 32 to ${LIMITS.resolution}`, lift: LIFT };
  const resolution = integer('resolution', values.resolution, resolutionRange);
  if (resolution !== undefined && resolution % 32 !== 0) throw optionError('--resolution', resolutionRange.rule, quote(values.resolution!));
  const v3: readonly Arch[] = ['v3-large', 'v3-small'];
  onlyFor('minimalistic', values.minimalistic === true, arch, v3);
  onlyFor('reduced-tail', values['reduced-tail'] === true, arch, v3);
  onlyFor('dilated', values.dilated === true, arch, v3);
  onlyFor('depth-multiplier', values['depth-multiplier'] !== undefined, arch, ['v1']);
  onlyFor('expansion', values.expansion !== undefined, arch, ['v2']);
  const o: { -readonly [K in keyof ModelOptions]: ModelOptions[K] } = { arch };
  const set = <K extends keyof ModelOptions>(key: K, v: ModelOptions[K] | undefined) => v !== undefined && (o[key] = v);
  set('convention', oneOf<Convention>('convention', values.convention, CONVENTIONS));
  set('width', decimal('width', values.width, { min: 0.05, max: 4, rule: 'a number from 0.05 to 4' }));
  set('resolution', resolution);
  set('classes', integer('classes', values.classes, { ...between(1, large ? Number.MAX_SAFE_INTEGER : LIMITS.classes, LIFT), rule: `an integer from 1 to ${LIMITS.classes}` }));
  set('depthMultiplier', integer('depth-multiplier', values['depth-multiplier'], between(1, 8)));
  set('expansion', decimal('expansion', values.expansion, { min: 1, max: 16, rule: 'a number from 1 to 16' }));
  set('bnEps', decimal('bn-eps', values['bn-eps'], { min: 1e-12, max: 0.5, rule: 'a number from 1e-12 to 0.5' }, true));
  set('dropout', decimal('dropout', values.dropout, { min: 0, max: 0.99, rule: 'a number from 0 to 0.99' }));
  if (values.minimalistic) o.minimalistic = true;
  if (values['reduced-tail']) o.reducedTail = true;
  if (values.dilated) o.dilated = true;
  if (values['no-top']) o.includeTop = false;
  if (values.embedding) o.embedding = true;
  return o;
}

/** The seeded initialiser named by --init and --seed. */
export function initialiser(values: ModelValues & Values<typeof SEED_OPTION>, fallback: 'torchvision' | 'fan-in'): Initialiser {
  const seed = integer('seed', values.seed, between(0, 2 ** 32 - 1)) ?? 0;
  const init = oneOf('init', values.init, ['torchvision', 'fan-in'] as const) ?? fallback;
  return init === 'torchvision' ? torchvisionInit(seed) : fanInInit(seed);
}

/** An integer option within [min, max]; undefined when not given. */
export function integerOption(name: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return integer(name, raw, max === Number.MAX_SAFE_INTEGER ? { min, max, rule: `an integer >= ${min}` } : between(min, max));
}
