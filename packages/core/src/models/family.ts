import type { Convention, ConventionBase, Family, FamilyDefinition, OptionValues } from './contract.js';

export type {
  ConventionBase,
  Family,
  FamilyDefinition,
  FamilyOptionSpec,
  FamilyOptionValue,
  FamilyWeights,
} from './contract.js';

const has = <A extends string>(archs: readonly A[], arch: string): arch is A =>
  (archs as readonly string[]).includes(arch);

/**
 * Erases a family's convention and option types; the casts are sound because `net.cfg.spec` was resolved from this
 * family and `net.cfg.options` holds a value for every option it declares.
 */
export function defineFamily<A extends string, C extends ConventionBase<A>, O extends OptionValues<O>>(
  f: FamilyDefinition<A, C, O>,
): Family<A> {
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
    ...(f.dense && { dense: f.dense }),
    spec: (c) => f.conventions[c] as ConventionBase | undefined,
    build: (net, input) =>
      f.build(net, input, net.cfg.spec as unknown as C, arch(net.cfg.arch), net.cfg.options as unknown as O),
  };
}
