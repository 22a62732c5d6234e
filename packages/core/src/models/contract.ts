// What families, conventions, options and weight layouts agree on: types only, importing only the IR (and the
// metadata format's Preprocessing type, which metadata/ owns). Every module
// in models/ (and weights/mapping.ts) depends on this one, and it on none of them, so the arrows run one way:
// contract <- layers, convention, family <- v1..v4 <- builtin -> registry <- options, build, weights, CLI.
import type { DYNAMIC_BATCH } from '../ir/batch.js';
import type { GraphBuilder } from '../ir/builder.js';
import type { Value } from '../ir/tensor.js';
import type { Preprocessing } from '../metadata/preprocessing.js';

/** How an image becomes the input tensor: the metadata format's type (metadata/ owns it). */
export type { Preprocessing };

/**
 * Where the reference implementations disagree, a convention picks one side, so that weights trained by each
 * can be loaded unchanged. `reference` is the authors' own code (TF-slim, tensorflow/models). `timm-tf` is timm's
 * `tf_` models: TF's weights ported into timm's layout, built with TF's padding and BN epsilon.
 */
export type Convention = 'reference' | 'torchvision' | 'keras' | 'timm' | 'timm-tf';

/** Key layouts of the checkpoints users have. Our parameter names are torchvision's, so that map is the identity. */
export type WeightsFormat = 'torchvision' | 'timm';

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

/** A family option's value: a flag, or a number. */
export type FamilyOptionValue = boolean | number;

/**
 * An option only some families take, declared by the family itself. It is keyed by its field in the model options
 * (e.g. `reducedTail`); the registry lists which archs take it, and the options check refuses it elsewhere.
 */
export interface FamilyOptionSpec<V extends FamilyOptionValue = FamilyOptionValue> {
  /** Its name in errors and on the command line, e.g. 'reduced-tail'. */
  readonly name: string;
  /** The value that means "not used": its default, and what another family's model must leave it at. */
  readonly neutral: V;
  /** The placeholder of a valued option in help, e.g. 'D' (flags have none). */
  readonly value?: string;
  /** One line for `--help`, after "<families> only: ". */
  readonly help: string;
  /** The values allowed, and the rule as an error states it (flags need none). */
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
  /**
   * Rows of the classifier's weight per class (default 1): SSD's classification conv has anchors x classes rows,
   * 6 x 91 = 546 for SSDLite's first map.
   */
  readonly rowsPerClass?: number;
  /** Family options a checkpoint's keys decide (DeepLabV3's `aux` head), given whether a key is present. */
  readonly optionsFromKeys?: (has: (key: string) => boolean) => Readonly<Record<string, FamilyOptionValue>>;
  readonly timm?: {
    readonly stages: (arch: string) => readonly number[];
    /** [ours, timm's] module pairs after the blocks; `next` is the index of our first module after them. */
    readonly head: (next: number) => readonly (readonly [ours: string, theirs: string])[];
  };
}

/** A family's own rule for the input size (the default: a multiple of 32, at least 32). */
export interface ResolutionRule {
  readonly ok: (resolution: number) => boolean;
  /** The rule as an error states it, e.g. '320 (SSDLite320 is built for one input size)'. */
  readonly expected: string;
}

/**
 * What a family that is not an image classifier adds to the classifiers' contract: its input's name, its own
 * input-size rule, and the metadata its task needs (detection anchors, segmentation outputs, class names).
 */
export interface DenseTask {
  /** The graph input's name: 'images' (a classifier's is 'input'). */
  readonly input: string;
  /** Which input sizes the family builds: SSDLite320 one, the segmenters any from 32. */
  readonly resolution: ResolutionRule;
  /** Metadata entries beside `mobilenet.config` and `mobilenet.preprocessing` (they may replace the labels). */
  readonly metadata: (cfg: ResolvedConfig) => Readonly<Record<string, string>>;
  /** The family options recorded in `mobilenet.config` beside the shared fields (DeepLabV3's `aux`). */
  readonly config: (cfg: ResolvedConfig) => Readonly<Record<string, FamilyOptionValue>>;
}

/** A model's options, checked and with every default filled: what a family builds from. */
export interface ResolvedConfig<A extends string = string> {
  readonly arch: A;
  readonly width: number;
  readonly resolution: number;
  readonly classes: number;
  readonly convention: Convention;
  readonly dropout: number;
  readonly includeTop: boolean;
  readonly embedding: boolean;
  readonly bnEps: number;
  readonly batch: number | typeof DYNAMIC_BATCH;
  /** Every registered family option's value, by its key: as given, or its neutral value. */
  readonly options: Readonly<Record<string, FamilyOptionValue>>;
  /** The arch's family in the registry: its builder, options and weight layout. */
  readonly family: Family;
  /** The convention's choices for this family, resolved once: padding, head, defaults. */
  readonly spec: ConventionBase;
  /** How images become input for this model (stored in the ONNX metadata). */
  readonly preprocessing: Preprocessing;
}

/** What a family builds on: the graph builder and the resolved config. */
export interface Net {
  readonly b: GraphBuilder;
  readonly cfg: ResolvedConfig;
}

/** A family's options as its file declares them: each key's spec, typed by its value. */
export type OptionSpecs<O extends OptionValues<O>> = { readonly [K in keyof O]: FamilyOptionSpec<O[K]> };
/** A family's option values, by key (an interface of flags and numbers). */
export type OptionValues<O> = { readonly [K in keyof O]: FamilyOptionValue };

/** A family as its file writes it: typed by its archs `A`, its convention fields `C` and its own options `O`. */
export interface FamilyDefinition<
  A extends string,
  C extends ConventionBase<A>,
  O extends OptionValues<O> = Record<never, never>,
> {
  /** The name in help and errors, e.g. 'v3'. */
  readonly name: string;
  readonly archs: readonly A[];
  /** One line for `--arch` help. */
  readonly help: string;
  /** The conventions this family's models exist in; `defaultConvention` is used when none is given. */
  readonly conventions: Partial<Record<Convention, C>>;
  readonly defaultConvention: Convention;
  /** The options only this family (and others that declare the same) takes. */
  readonly options: OptionSpecs<O>;
  /** The default input size (the paper's). */
  readonly resolution: (arch: A) => number;
  readonly dropout: number;
  readonly weights: FamilyWeights;
  /** Set by detection and segmentation families: what differs from an image classifier. */
  readonly dense?: DenseTask;
  /** Builds the body and head on `net`, given the resolved convention, the arch and the family's option values. */
  readonly build: (net: Net, input: Value, conv: C, arch: A, options: O) => void;
}

/** A family as the registry holds it: the same facts, with the convention and option types erased. */
export interface Family<A extends string = string> {
  readonly name: string;
  readonly archs: readonly A[];
  readonly help: string;
  readonly conventions: readonly Convention[];
  readonly defaultConvention: Convention;
  readonly options: Readonly<Record<string, FamilyOptionSpec>>;
  readonly resolution: (arch: string) => number;
  readonly dropout: number;
  readonly weights: FamilyWeights;
  /** The family's choices under a convention, or undefined when its models do not exist in that convention. */
  readonly spec: (convention: Convention) => ConventionBase | undefined;
  /** Set by detection and segmentation families: what differs from an image classifier. */
  readonly dense?: DenseTask;
  /** Builds a model whose config was resolved for this family (`net.cfg.spec` came from `spec`). */
  readonly build: (net: Net, input: Value) => void;
}
