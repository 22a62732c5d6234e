import type { Value } from '../ir/tensor.js';
import type { WeightsFormat } from '../weights/mapping.js';
import type { Convention, Preprocessing } from './convention.js';
import type { Net } from './layers.js';
import type { ModelOptions } from './options.js';

/** The choices every family's conventions make; a family's own convention type adds its fields to these. */
export interface ConventionBase<A extends string = string> {
  /** Output classes by default: 1001 has a background class at index 0 (TF). */
  readonly classes: number;
  readonly bnEps: number;
  /** TF 'SAME' padding: stride-2 convs pad (k-1)/2 before and k/2 after (asymmetric), as TF and Keras do. */
  readonly tfSamePadding: boolean;
  /** Classifier as a 1x1 conv on the pooled map (TF, Keras) or a Linear layer (PyTorch). */
  readonly convHead: boolean;
  /** How images become input for this model; stored in the ONNX metadata. */
  readonly preprocessing: (model: {
    readonly arch: A;
    readonly width: number;
    readonly resolution: number;
  }) => Preprocessing;
}

/** Options only some families take. Each family lists its own, with the rule its values follow. */
export type FamilyOption = 'minimalistic' | 'reducedTail' | 'dilated' | 'depthMultiplier' | 'expansion';

export interface FamilyOptionSpec {
  /** One line for `--help`, after "<archs> only: ". */
  readonly help: string;
  /** The values allowed, and the rule as an error states it (boolean options need none). */
  readonly check?: { readonly ok: (v: number) => boolean; readonly expected: string };
}

/**
 * Where a family's weights live in the checkpoints users have. Our parameter names are already one layout's keys
 * (`native`: torchvision's for v1-v3, timm's for v4), so that layout loads by identity.
 */
export interface FamilyWeights {
  readonly native: WeightsFormat;
  /** The classifier's module in each layout the family ships in; its weight's rows give the class count. */
  readonly classifier: Partial<Record<WeightsFormat, string>>;
  /** timm's layout of a family named after torchvision: `blocks.{stage}.{index}`, and its head's modules. */
  readonly timm?: {
    readonly stages: (arch: string) => readonly number[];
    /** [ours, timm's] module pairs after the blocks; `next` is the index of our first module after them. */
    readonly head: (next: number) => readonly (readonly [ours: string, theirs: string])[];
  };
}

/** A family as its file writes it: typed by its archs `A` and its convention fields `C`. */
export interface FamilyDefinition<A extends string, C extends ConventionBase<A>> {
  /** The name in help and errors, e.g. 'v3'. */
  readonly name: string;
  readonly archs: readonly A[];
  /** One line for `--arch` help. */
  readonly help: string;
  /** The conventions this family's models exist in; `defaultConvention` is used when none is given. */
  readonly conventions: Partial<Record<Convention, C>>;
  readonly defaultConvention: Convention;
  /** The options only this family (and others that list them) takes. */
  readonly options: Partial<Record<FamilyOption, FamilyOptionSpec>>;
  /** The default input size (the paper's). */
  readonly resolution: (arch: A) => number;
  readonly dropout: number;
  readonly weights: FamilyWeights;
  /** Builds the body and head on `net`, given the resolved convention and the arch. */
  readonly build: (net: Net, input: Value, conv: C, arch: A) => void;
}

/** A family as the registry holds it: the same facts, with the convention type erased behind `spec`. */
export interface Family<A extends string = string> {
  readonly name: string;
  readonly archs: readonly A[];
  readonly help: string;
  readonly conventions: readonly Convention[];
  readonly defaultConvention: Convention;
  readonly options: Partial<Record<FamilyOption, FamilyOptionSpec>>;
  readonly resolution: (arch: string) => number;
  readonly dropout: number;
  readonly weights: FamilyWeights;
  /** The family's choices under a convention, or undefined when its models do not exist in that convention. */
  readonly spec: (convention: Convention) => ConventionBase | undefined;
  /** Builds a model whose config was resolved for this family (`net.cfg.spec` came from `spec`). */
  readonly build: (net: Net, input: Value) => void;
}

const has = <A extends string>(archs: readonly A[], arch: string): arch is A =>
  (archs as readonly string[]).includes(arch);

/** Erases a family's convention type; the casts are sound because `net.cfg.spec` was resolved from this family. */
export function defineFamily<A extends string, C extends ConventionBase<A>>(f: FamilyDefinition<A, C>): Family<A> {
  const arch = (a: string): A => {
    if (!has(f.archs, a)) throw new Error(`family ${f.name} has no arch '${a}'`);
    return a;
  };
  return {
    name: f.name,
    archs: f.archs,
    help: f.help,
    conventions: Object.keys(f.conventions) as Convention[],
    defaultConvention: f.defaultConvention,
    options: f.options,
    resolution: (a) => f.resolution(arch(a)),
    dropout: f.dropout,
    weights: f.weights,
    spec: (c) => f.conventions[c] as ConventionBase | undefined,
    build: (net, input) => f.build(net, input, net.cfg.spec as unknown as C, arch(net.cfg.arch)),
  };
}

/** Each family option's name in errors and on the command line, the value that means "not used", and its placeholder in help. */
export const FAMILY_OPTIONS = {
  minimalistic: { name: 'minimalistic', neutral: false },
  reducedTail: { name: 'reduced-tail', neutral: false },
  dilated: { name: 'dilated', neutral: false },
  depthMultiplier: { name: 'depth-multiplier', neutral: 1, value: 'D' },
  expansion: { name: 'expansion', neutral: 6, value: 'T' },
} as const satisfies {
  readonly [K in FamilyOption]: {
    readonly name: string;
    readonly neutral: NonNullable<ModelOptions[K]>;
    readonly value?: string;
  };
};
