import type { TrainHeadOptions } from '@mobilenet/core';
import { optionError, quote } from './errors.js';
import type { OptionSpec } from './parse.js';

/** The options of trainHead as flags; trainHead checks the values' ranges again and names the option. */
export const TRAIN_OPTION_SPEC = {
  head: { type: 'string', expects: 'linear or mlp' },
  hidden: { type: 'string', expects: 'an integer from 1 to 100000' },
  optimizer: { type: 'string', expects: 'adam or lbfgs' },
  epochs: { type: 'string', expects: 'an integer from 1 to 100000' },
  lr: { type: 'string', expects: 'a number above 0' },
  'batch-size': { type: 'string', expects: 'an integer from 1 to 65536' },
  'weight-decay': { type: 'string', expects: 'a number from 0' },
  'label-smoothing': { type: 'string', expects: 'a number from 0 to below 1' },
  val: { type: 'string', expects: 'a fraction from 0 to below 1' },
  seed: { type: 'string', expects: 'an integer from 0 to 4294967295' },
  patience: { type: 'string', expects: 'an integer from 1' },
  'class-weights': { type: 'string', expects: 'balanced' },
  standardize: { type: 'boolean' },
  'no-standardize': { type: 'boolean' },
} as const satisfies OptionSpec;

export const TRAIN_OPTIONS_HELP = `  --head linear|mlp   multinomial logistic regression (default), or one ReLU hidden layer then softmax
  --hidden N          hidden units of --head mlp (default 100)
  --optimizer adam|lbfgs  Adam on mini-batches (default), or full-batch L-BFGS (linear only: scikit-learn's solver,
                      slower per run; on 1,000 MobileNetV2 embeddings it reached scikit-learn's accuracy where Adam
                      at its defaults, still converging, stopped 24 points lower; --standardize fixes Adam's:
                      docs/benchmarks.md)
  --epochs N          Adam epochs (default 50); L-BFGS iterations (default 1000)
  --lr X              Adam's learning rate (default 0.001)
  --batch-size N      mini-batch size (default 32)
  --weight-decay X    L2 on the weights, not the biases (default 0): mean(CE) + X/2 ||W||^2
  --label-smoothing E targets (1 - E) onehot + E / classes (default 0)
  --val F             validation share, stratified and seeded (default 0.15; 0: no validation, no early stopping)
  --seed N            seed of the split, batch order, MLP weights and augmentation (default 0)
  --patience N        stop after N epochs without a lower validation loss (default 10)
  --class-weights balanced  weigh classes by n / (classes x n_class), for imbalanced folders
  --standardize       train on standardized features, folded back into the weights (same file, raw embeddings in):
                      Adam at its defaults went from 64% to 98% on 1,000 MobileNetV2 embeddings (docs/benchmarks.md).
                      Default on with Adam; off with --optimizer lbfgs, which then solves scikit-learn's problem
  --no-standardize    train Adam on the raw embeddings`;

type Flag = 'standardize' | 'no-standardize';
type Values = { readonly [K in Exclude<keyof typeof TRAIN_OPTION_SPEC, Flag>]?: string } & {
  readonly [K in Flag]?: boolean;
};

/**
 * Standardized features unless told otherwise, for Adam: on raw pooled embeddings (a few large, mostly small
 * features) Adam at its defaults was still converging when it stopped, 24 points under scikit-learn; L-BFGS reaches
 * the optimum either way, and on raw features it is scikit-learn's own problem (the oracle), so it stays raw.
 */
function standardizeChoice(values: Values, optimizer: string | undefined): boolean {
  if (values.standardize && values['no-standardize'])
    throw optionError('--standardize/--no-standardize', 'one of them', 'both');
  if (values.standardize || values['no-standardize']) return values.standardize === true;
  return optimizer !== 'lbfgs';
}

const NUMBER = /^[+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function num(option: string, raw: string | undefined, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!NUMBER.test(raw) || (integer && !Number.isSafeInteger(v)))
    throw optionError(
      `--${option}`,
      (TRAIN_OPTION_SPEC[option as keyof typeof TRAIN_OPTION_SPEC] as { expects: string }).expects,
      quote(raw),
    );
  return v;
}

/** The flags as trainHead's options (defaults left to it, so they are stated in one place). */
export function trainOptions(values: Values): Omit<TrainHeadOptions, 'embeddings' | 'labels' | 'classes'> {
  const choice = <T extends string>(option: string, raw: string | undefined, allowed: readonly T[]) => {
    if (raw === undefined) return undefined;
    const hit = allowed.find((a) => a === raw);
    if (hit === undefined) throw optionError(`--${option}`, allowed.join(' or '), quote(raw));
    return hit;
  };
  const o = {
    head: choice('head', values.head, ['linear', 'mlp'] as const),
    hidden: num('hidden', values.hidden, true),
    optimizer: choice('optimizer', values.optimizer, ['adam', 'lbfgs'] as const),
    epochs: num('epochs', values.epochs, true),
    lr: num('lr', values.lr, false),
    batchSize: num('batch-size', values['batch-size'], true),
    weightDecay: num('weight-decay', values['weight-decay'], false),
    labelSmoothing: num('label-smoothing', values['label-smoothing'], false),
    val: num('val', values.val, false),
    seed: num('seed', values.seed, true),
    patience: num('patience', values.patience, true),
    classWeights: choice('class-weights', values['class-weights'], ['balanced'] as const),
    standardize: standardizeChoice(values, values.optimizer),
  };
  if (o.hidden !== undefined && o.head !== 'mlp')
    throw optionError('--hidden', '--head mlp to go with it', quote(values.hidden!));
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
