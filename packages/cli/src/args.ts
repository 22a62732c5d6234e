import { parseArgs } from 'node:util';
import { ARCHS, type Arch, CONVENTIONS, type Convention, type Initialiser, type ModelOptions, fanInInit, torchvisionInit } from '@mobilenet/core';
import { UsageError } from './errors.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** Options shared by every command that builds a model from an architecture. */
export const MODEL_OPTIONS: OptionSpec = {
  arch: { type: 'string' },
  width: { type: 'string' },
  resolution: { type: 'string' },
  classes: { type: 'string' },
  convention: { type: 'string' },
  minimalistic: { type: 'boolean' },
  'reduced-tail': { type: 'boolean' },
  dilated: { type: 'boolean' },
  'depth-multiplier': { type: 'string' },
  expansion: { type: 'string' },
  'bn-eps': { type: 'string' },
  dropout: { type: 'string' },
  'no-top': { type: 'boolean' },
  embedding: { type: 'boolean' },
  init: { type: 'string' },
};

export const MODEL_HELP = `Model options:
  --arch v1|v2|v3-large|v3-small   architecture (required)
  --width W                        width multiplier, 0 < W <= 4 (default 1)
  --resolution R                   input size, a multiple of 32 from 32 up (default 224)
  --classes K                      output classes (default 1001 for reference, else 1000)
  --convention C                   reference|torchvision|keras|timm (default reference)
  --minimalistic                   v3 only: no SE, no h-swish, 3x3 kernels
  --reduced-tail                   v3 only: halve the last stage and head (torchvision, for detection)
  --dilated                        v3 only: dilation 2 in the last stage, output stride 16 (for segmentation)
  --depth-multiplier D             v1 only: channels per depthwise group (default 1)
  --expansion T                    v2 only: bottleneck expansion factor (default 6)
  --bn-eps E                       BatchNorm epsilon (default from the convention)
  --dropout P                      classifier dropout, recorded in metadata
  --no-top                         no classifier: outputs 'features' and 'embedding'
  --embedding                      also output the pooled 'embedding'
  --init torchvision|fan-in        seeded weights: torchvision's initialisation, or fan-in scaled with random BN
                                   statistics (activations that do not vanish; default for classify --arch)`;

export type Values = Record<string, string | boolean | undefined>;

export function parse(argv: string[], options: OptionSpec, positionals = false): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: positionals, strict: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!.replace(/^Unknown option/, 'unknown option'));
  }
}

function number(name: string, raw: string | undefined, integer = false): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || Number.isNaN(v) || (integer && !Number.isInteger(v))) {
    throw new UsageError(`option --${name}: '${raw}' is not ${integer ? 'an integer' : 'a number'}`);
  }
  return v;
}

export function modelOptions(values: Values): ModelOptions {
  const arch = values.arch as string | undefined;
  if (!arch) throw new UsageError(`option --arch: required, one of ${ARCHS.join(', ')}`);
  if (!ARCHS.includes(arch as Arch)) throw new UsageError(`option --arch: '${arch}' is not one of ${ARCHS.join(', ')}`);
  const convention = values.convention as string | undefined;
  if (convention !== undefined && !CONVENTIONS.includes(convention as Convention)) {
    throw new UsageError(`option --convention: '${convention}' is not one of ${CONVENTIONS.join(', ')}`);
  }
  const o: Record<string, unknown> = {
    arch,
    convention,
    width: number('width', values.width as string),
    resolution: number('resolution', values.resolution as string, true),
    classes: number('classes', values.classes as string, true),
    depthMultiplier: number('depth-multiplier', values['depth-multiplier'] as string, true),
    expansion: number('expansion', values.expansion as string),
    bnEps: number('bn-eps', values['bn-eps'] as string),
    dropout: number('dropout', values.dropout as string),
    minimalistic: values.minimalistic as boolean | undefined,
    reducedTail: values['reduced-tail'] as boolean | undefined,
    dilated: values.dilated as boolean | undefined,
    includeTop: values['no-top'] ? false : undefined,
    embedding: values.embedding as boolean | undefined,
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as unknown as ModelOptions;
}

/** An integer option within [min, max]; undefined when not given. */
export function integerOption(name: string, raw: string | undefined, min: number, max = Infinity): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  const rule = max === Infinity ? (min === 1 ? 'a positive integer' : `an integer >= ${min}`) : `an integer from ${min} to ${max}`;
  if (raw.trim() === '' || !Number.isInteger(v) || v < min || v > max) throw new UsageError(`option --${name}: '${raw}' is not ${rule}`);
  return v;
}

/** The seeded initialiser named by --init and --seed. */
export function initialiser(values: Values, fallback: 'torchvision' | 'fan-in'): Initialiser {
  const seed = integerOption('seed', values.seed as string | undefined, 0, 2 ** 32 - 1) ?? 0;
  const init = (values.init as string | undefined) ?? fallback;
  if (init !== 'torchvision' && init !== 'fan-in') throw new UsageError(`option --init: '${init}' is not one of torchvision, fan-in`);
  return init === 'torchvision' ? torchvisionInit(seed) : fanInInit(seed);
}
