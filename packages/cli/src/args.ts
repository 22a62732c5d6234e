import {
  CONVENTIONS,
  type Convention,
  type ParamFiller,
  type ModelOptions,
  allFamilies,
  archs,
  familyFor,
  familyOptions,
  fanInFill,
  isArch,
  torchvisionFill,
  MODEL_LIMITS,
} from '@mobilenet/core';
import { optionError, quote } from './errors.js';
import { type Range, between, decimal, integer } from './numbers.js';
import { closest } from './parse.js';
import type { OptionSpec, Values } from './parse.js';

export { parse } from './parse.js';

/**
 * Caps on what has no sane use and would take gigabytes (a 8192 input, a million classes). A user who truly
 * needs more passes --allow-large; the library itself (core) keeps only the structural rules.
 */
/** The library's caps (core's MODEL_LIMITS), which --allow-large lifts here as allowLarge does there. */
export const LIMITS = MODEL_LIMITS;
const LIFT = 'pass --allow-large for more';

/** Options shared by every command that builds a model from an architecture. */
export const MODEL_OPTIONS = {
  arch: {
    type: 'string',
    get expects() {
      return `one of ${archs().join(', ')}`;
    },
  },
  width: { type: 'string', expects: 'a number from 0.05 to 4' },
  resolution: { type: 'string', expects: `a multiple of 32 from 32 to ${LIMITS.resolution}` },
  classes: { type: 'string', expects: `an integer from 1 to ${LIMITS.classes}` },
  convention: { type: 'string', expects: `one of ${CONVENTIONS.join(', ')}` },
  minimalistic: { type: 'boolean' },
  'reduced-tail': { type: 'boolean' },
  dilated: { type: 'boolean' },
  aux: { type: 'boolean' },
  'depth-multiplier': { type: 'string', expects: 'an integer from 1 to 8' },
  expansion: { type: 'string', expects: 'a number from 1 to 16' },
  'bn-eps': { type: 'string', expects: 'a number from 1e-12 to 0.5' },
  dropout: { type: 'string', expects: 'a number from 0 to 0.99' },
  'no-top': { type: 'boolean' },
  embedding: { type: 'boolean' },
  init: { type: 'string', expects: 'one of torchvision, fan-in' },
  'allow-large': { type: 'boolean' },
} as const satisfies OptionSpec;

export const SEED_OPTION = {
  seed: { type: 'string', expects: 'an integer from 0 to 4294967295' },
} as const satisfies OptionSpec;

const FLAG = 33;
const line = (flag: string, text: string) => `  ${flag.padEnd(FLAG)}${text}`;

/** The --arch lines: each family's archs and its help, from the registry. */
function archHelp(): string {
  return allFamilies()
    .map((f) => `${line('', f.archs.join('|'))}\n${line('', `  ${f.help}`)}`)
    .join('\n');
}

/** The family options' lines, from the registry: which archs take each, and what it does there. */
function familyOptionsHelp(): string {
  return familyOptions()
    .map(({ spec, families }) => {
      const flag = spec.value ? `--${spec.name} ${spec.value}` : `--${spec.name}`;
      return line(flag, `${families.map((f) => f.name).join(', ')} only: ${spec.help}`);
    })
    .join('\n');
}

/** Lines 'KEY for A, B' grouping names by a key, in registry order. */
function grouped<K>(pairs: readonly (readonly [K, string])[]): string[] {
  const by = new Map<K, string[]>();
  for (const [k, name] of pairs) by.set(k, [...(by.get(k) ?? []), name]);
  return [...by].map(([k, names]) => `${k} for ${names.join(', ')}`);
}

/**
 * Model options help, written from the registry when asked (so a registered family shows too). `alternative` names
 * what --arch stands in for where it is not required (classify's --model FILE, profile's FILE).
 */
export function modelHelp(alternative?: string): string {
  return `Model options:
${line('--arch A', alternative ? `architecture, instead of ${alternative}; one of:` : 'architecture (required), one of:')}
${archHelp()}
${line('--width W', 'width multiplier, 0.05 to 4 (default 1)')}
${line('--resolution R', `input size, a multiple of 32 from 32 to ${LIMITS.resolution}; default the paper's:`)}
${grouped(allFamilies().flatMap((f) => f.archs.map((a) => [f.resolution(a), a] as const)))
  .map((l) => line('', `  ${l}`))
  .join('\n')}
${line('--classes K', `output classes, 1 to ${LIMITS.classes} (default 1001 for reference, else 1000)`)}
${line('--convention C', `${CONVENTIONS.join('|')} (default: with --weights, the checkpoint's;`)}
${line('', `else the family's: ${grouped(allFamilies().map((f) => [f.defaultConvention, f.name] as const)).join('; ')})`)}
${familyOptionsHelp()}
${line('--bn-eps E', 'BatchNorm epsilon, 1e-12 to 0.5 (default from the convention)')}
${line('--dropout P', 'classifier dropout, 0 to 0.99, recorded in metadata')}
${line('--no-top', "no classifier: outputs 'features' and 'embedding'")}
${line('--embedding', "also output the pooled 'embedding'")}
${line('--init torchvision|fan-in', "seeded weights: torchvision's initialisation, or fan-in scaled with random BN")}
${line('', 'statistics (activations that do not vanish; default for classify --arch)')}
${line('--allow-large', "lift the caps on --resolution and --classes (and on a model file's input")}
${line('', 'size and classes in classify): memory grows with them')}`;
}

export const MODEL_HELP = modelHelp();
/** The model options' help for commands that take a model file or --arch. */
export const MODEL_HELP_OR_FILE = modelHelp('--model FILE');

export type ModelValues = Values<typeof MODEL_OPTIONS>;

function oneOf<T extends string>(option: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  const hit = allowed.find((a) => a === raw);
  if (hit === undefined) throw optionError(`--${option}`, `one of ${allowed.join(', ')}`, quote(raw));
  return hit;
}

/** Options only some families take, refused (naming the option, the archs that take it and the arch given). */
function familyOnly(values: ModelValues, arch: string): void {
  const family = familyFor(arch);
  for (const { key, spec, families } of familyOptions()) {
    // A boolean flag is true or absent; a valued one is its text. Either way, present means given.
    const given = (values as Readonly<Record<string, unknown>>)[spec.name] !== undefined;
    if (given && !family.options[key])
      throw optionError(`--${spec.name}`, `--arch ${families.flatMap((f) => f.archs).join(' or ')}`, `--arch ${arch}`);
  }
}

export function modelOptions(values: ModelValues): ModelOptions {
  if (values.arch === undefined) throw optionError('--arch', `one of ${archs().join(', ')} (required)`, 'nothing');
  return { ...optionValues(values), arch: values.arch as ModelOptions['arch'] };
}

/** The model options for named weights, whose name says the arch: --arch is optional (and must agree). */
export function namedModelOptions(values: ModelValues): Partial<ModelOptions> {
  return optionValues(values);
}

function optionValues(values: ModelValues): Partial<ModelOptions> {
  const arch = values.arch;
  if (arch !== undefined && !isArch(arch)) {
    const near = closest(arch, archs());
    throw optionError(
      '--arch',
      `one of ${archs().join(', ')}`,
      `${quote(arch)}${near ? `; did you mean ${near}?` : ''}`,
    );
  }
  const large = values['allow-large'] === true;
  const resolutionRange: Range = {
    min: 32,
    max: large ? Number.MAX_SAFE_INTEGER : LIMITS.resolution,
    rule: `a multiple of 32 from 32 to ${LIMITS.resolution}`,
    lift: LIFT,
  };
  const resolution = integer('resolution', values.resolution, resolutionRange);
  // A detection or segmentation family states its own size rule (core checks it); the classifiers take multiples of 32.
  const ownRule = arch !== undefined && familyFor(arch).dense !== undefined;
  if (resolution !== undefined && resolution % 32 !== 0 && !ownRule)
    throw optionError('--resolution', resolutionRange.rule, quote(values.resolution!));
  if (arch !== undefined) familyOnly(values, arch);
  const o: { -readonly [K in keyof ModelOptions]?: ModelOptions[K] } = {
    ...(arch !== undefined && { arch }),
    ...(large && { allowLarge: true }),
  };
  const set = <K extends keyof ModelOptions>(key: K, v: ModelOptions[K] | undefined) => v !== undefined && (o[key] = v);
  set('convention', oneOf<Convention>('convention', values.convention, CONVENTIONS));
  set('width', decimal('width', values.width, { min: 0.05, max: 4, rule: 'a number from 0.05 to 4' }));
  set('resolution', resolution);
  set(
    'classes',
    integer('classes', values.classes, {
      ...between(1, large ? Number.MAX_SAFE_INTEGER : LIMITS.classes, LIFT),
      rule: `an integer from 1 to ${LIMITS.classes}`,
    }),
  );
  set('depthMultiplier', integer('depth-multiplier', values['depth-multiplier'], between(1, 8)));
  set('expansion', decimal('expansion', values.expansion, { min: 1, max: 16, rule: 'a number from 1 to 16' }));
  set('bnEps', decimal('bn-eps', values['bn-eps'], { min: 1e-12, max: 0.5, rule: 'a number from 1e-12 to 0.5' }, true));
  set('dropout', decimal('dropout', values.dropout, { min: 0, max: 0.99, rule: 'a number from 0 to 0.99' }));
  if (values.minimalistic) o.minimalistic = true;
  if (values['reduced-tail']) o.reducedTail = true;
  if (values.dilated) o.dilated = true;
  if (values.aux) o.aux = true;
  if (values['no-top']) o.includeTop = false;
  if (values.embedding) o.embedding = true;
  return o;
}

/** The seeded initialiser named by --init and --seed. */
export function initialiser(
  values: ModelValues & Values<typeof SEED_OPTION>,
  fallback: 'torchvision' | 'fan-in',
): ParamFiller {
  const seed = integer('seed', values.seed, between(0, 2 ** 32 - 1)) ?? 0;
  const init = oneOf('init', values.init, ['torchvision', 'fan-in'] as const) ?? fallback;
  return init === 'torchvision' ? torchvisionFill(seed) : fanInFill(seed);
}
