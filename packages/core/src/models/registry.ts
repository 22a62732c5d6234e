import type { Convention } from './convention.js';
import type { Family, FamilyOption } from './family.js';
import { V1 } from './v1.js';
import { V2 } from './v2.js';
import { V3 } from './v3.js';
import { V4 } from './v4.js';

/**
 * The architecture registry: every family, with its builder, options, conventions, default resolution, weight
 * layout and help. The CLI, the demo, the bench, option checking and weight loading all read it; adding an
 * architecture is one file (its family) and one entry here.
 */
const BUILT_IN = [V1, V2, V3, V4] as const;

/** The architectures this package builds, e.g. 'v3-small', 'v4-hybrid-medium'. */
export type Arch = (typeof BUILT_IN)[number]['archs'][number];

const families: Family[] = [...BUILT_IN];

/** Every architecture, in registry order (a live view: families registered later are included). */
export function archs(): readonly string[] {
  return families.flatMap((f) => f.archs);
}

/** The built-in architectures. */
export const ARCHS: readonly Arch[] = BUILT_IN.flatMap((f): readonly Arch[] => f.archs);

/** The family of an architecture, or undefined for a name no family has. */
export function familyOf(arch: string): Family | undefined {
  return families.find((f) => f.archs.includes(arch));
}

/**
 * Whether a name is a registered architecture. A family registered at run time (`registerFamily`) is outside the
 * `Arch` union the compiler knows, but is as buildable as the built-in ones: this guard is where that is admitted.
 */
export function isArch(name: string): name is Arch {
  return familyOf(name) !== undefined;
}

/** Every registered family. */
export function allFamilies(): readonly Family[] {
  return families;
}

/** The architectures whose family takes an option, e.g. 'minimalistic' -> v3-large, v3-small. */
export function archsWithOption(option: FamilyOption): readonly string[] {
  return families.filter((f) => f.options[option]).flatMap((f) => f.archs);
}

/** The architectures that exist in a convention, e.g. 'torchvision' -> v1 ... v3-small. */
export function archsWithConvention(convention: Convention): readonly Arch[] {
  return BUILT_IN.filter((f) => f.conventions.includes(convention)).flatMap((f): readonly Arch[] => f.archs);
}

/**
 * `preferred` when the arch's family exists in it, else the family's default: e.g. seeded models in torchvision's
 * convention where there is one (v1-v3), timm's for v4, which torchvision does not have.
 */
export function conventionFor(arch: string, preferred: Convention): Convention {
  const family = familyOf(arch);
  if (!family) throw new Error(`conventionFor: no architecture '${arch}' is registered`);
  return family.conventions.includes(preferred) ? preferred : family.defaultConvention;
}

/**
 * Adds a family from outside this package (a plugin, or a test). Its arch names must be new. A family added here
 * builds, analyses, exports, loads weights and passes the CLI's --arch check like a built-in one.
 */
export function registerFamily(family: Family): void {
  const taken = family.archs.filter((a) => familyOf(a));
  if (taken.length) throw new Error(`registerFamily ${family.name}: arch ${taken.join(', ')} is already registered`);
  families.push(family);
}
