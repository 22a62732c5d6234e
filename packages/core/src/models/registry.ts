import type { Convention, Family, FamilyOptionSpec } from './contract.js';
import { OptionError } from '../ir/errors.js';

/**
 * The architecture registry: a leaf that families register into (as onnxruntime's backend-impl.ts or timm's
 * _registry.py). It knows no family: builtin.ts registers v1-v4, a plugin or a test calls `registerFamily`. The
 * CLI, the demo, the bench, option checking and weight loading all look families up here.
 */
const families: Family[] = [];

/** Every architecture, in registration order (a live view: families registered later are included). */
export function archs(): readonly string[] {
  return families.flatMap((f) => f.archs);
}

/** The family of an architecture, or undefined for a name no family has. */
export function familyOf(arch: string): Family | undefined {
  return families.find((f) => f.archs.includes(arch));
}

/** The family of an architecture; an unknown name is an `arch` option error listing the archs there are. */
export function familyFor(arch: string): Family {
  const family = familyOf(arch);
  if (!family) throw new OptionError('arch', `one of ${archs().join(', ')}`, arch);
  return family;
}

/** Every registered family. */
export function allFamilies(): readonly Family[] {
  return families;
}

/** A family option, with the families that declare it. */
export interface RegisteredOption {
  /** The option's field in the model options, e.g. 'reducedTail'. */
  readonly key: string;
  /** The first declaring family's spec: name, neutral value, help. */
  readonly spec: FamilyOptionSpec;
  readonly families: readonly Family[];
}

/** Every option some registered family declares, in order of first declaration. */
export function familyOptions(): readonly RegisteredOption[] {
  const byKey = new Map<string, { spec: FamilyOptionSpec; families: Family[] }>();
  for (const f of families)
    for (const [key, spec] of Object.entries(f.options)) {
      const seen = byKey.get(key);
      if (seen) seen.families.push(f);
      else byKey.set(key, { spec, families: [f] });
    }
  return [...byKey].map(([key, { spec, families }]) => ({ key, spec, families }));
}

/** The architectures whose family takes an option, e.g. 'minimalistic' -> v3-large, v3-small. */
export function archsWithOption(option: string): readonly string[] {
  return families.filter((f) => f.options[option]).flatMap((f) => f.archs);
}

/**
 * `preferred` when the arch's family exists in it, else the family's default: e.g. seeded models in torchvision's
 * convention where there is one (v1-v3), timm's for v4, which torchvision does not have.
 */
export function conventionFor(arch: string, preferred: Convention): Convention {
  const family = familyFor(arch);
  return family.conventions.includes(preferred) ? preferred : family.defaultConvention;
}

/**
 * Adds a family (the built-in ones from builtin.ts, others from a plugin or a test). Its arch names must be new,
 * and an option it shares with another family must mean the same (name and neutral value). A family added here
 * builds, analyses, exports, loads weights and passes the CLI's --arch check like a built-in one.
 */
export function registerFamily(family: Family): void {
  const taken = family.archs.filter((a) => familyOf(a));
  if (taken.length) throw new Error(`registerFamily ${family.name}: arch ${taken.join(', ')} is already registered`);
  for (const [key, spec] of Object.entries(family.options)) {
    const other = familyOptions().find((o) => o.key === key)?.spec;
    if (other && (other.name !== spec.name || other.neutral !== spec.neutral))
      throw new Error(`registerFamily ${family.name}: option ${key} is already registered as --${other.name}`);
  }
  families.push(family);
}
