// The built-in families, registered. The only module that imports v1-v4 and the detection and segmentation
// families: the package entry, options.ts and the
// weight loaders import it, so the built-ins are in the registry before any lookup, whichever module came first.
// Registering is this module's side effect: package.json's `sideEffects` names it, so bundlers keep it (a browser
// bundle without it has an empty registry).
import type { Convention, Family } from './contract.js';
import { familyOf, registerFamily } from './registry.js';
import { V1 } from './v1.js';
import { V2 } from './v2.js';
import { V3 } from './v3.js';
import { V4 } from './v4.js';
import { SSDLITE } from './ssdlite.js';
import { DEEPLABV3, LRASPP } from './segmentation.js';

export { V1, V1_LAYERS, type V1Convention } from './v1.js';
export { V2, V2_ROWS } from './v2.js';
export {
  V3,
  V3_LARGE,
  V3_SMALL,
  V3_HEAD,
  type V3Arch,
  type V3Convention,
  type V3Row,
  type Nl as V3Nonlinearity,
} from './v3.js';
export { SSDLITE, SSDLITE_EXTRAS, SSDLITE_RESOLUTION, ssdliteGrids } from './ssdlite.js';
export { ASPP, DEEPLABV3, LRASPP, LRASPP_INTER, SEGMENTATION_RESOLUTION } from './segmentation.js';
export { V4, V4_ARCHS, V4_SPECS, type V4Arch, type V4Block, type V4Spec } from './v4.js';
export type { DwKernel as V4DwKernel, Stride as V4Stride } from './v4-specs.js';
export {
  V4_CONVENTION,
  V4_CONVENTIONS,
  type V4ConventionSpec,
  TIMM_V4_CFGS,
  type TimmCfg as TimmV4Cfg,
  timmV4Name,
  type V4Convention,
} from './v4-convention.js';

/** The built-in image classifiers, in registration order (`Arch` is their union). @internal */
export const BUILT_IN = [V1, V2, V3, V4] as const;
/** The built-in detection and segmentation families (issue 26), registered after the classifiers. @internal */
export const DENSE_BUILT_IN: readonly [Family<DenseArch>, ...Family<DenseArch>[]] = [SSDLITE, LRASPP, DEEPLABV3];
for (const family of [...BUILT_IN, ...DENSE_BUILT_IN]) registerFamily(family);

/** The image classifiers this package builds, e.g. 'v3-small', 'v4-hybrid-medium'. */
export type Arch = (typeof BUILT_IN)[number]['archs'][number];
/** The detectors and segmenters this package builds on MobileNetV3: 'ssdlite320-v3-large', 'lraspp-v3-large', ... */
export type DenseArch = 'ssdlite320-v3-large' | 'lraspp-v3-large' | 'deeplabv3-v3-large';

/** The built-in image classifiers (what classify, embed, quantize and the bench iterate over). */
export const ARCHS: readonly Arch[] = BUILT_IN.flatMap((f): readonly Arch[] => f.archs);
/** The built-in detectors and segmenters: their outputs are boxes or maps, not logits. */
export const DENSE_ARCHS: readonly DenseArch[] = DENSE_BUILT_IN.flatMap((f): readonly DenseArch[] => f.archs);

/**
 * Whether a name is a registered architecture. A family registered at run time (`registerFamily`) is outside the
 * `Arch` union the compiler knows, but is as buildable as the built-in ones: this guard is where that is admitted.
 */
export function isArch(name: string): name is Arch {
  return familyOf(name) !== undefined;
}

/** The built-in architectures that exist in a convention, e.g. 'torchvision' -> v1 ... v3-small. */
export function archsWithConvention(convention: Convention): readonly Arch[] {
  return BUILT_IN.filter((f) => f.conventions.includes(convention)).flatMap((f): readonly Arch[] => f.archs);
}
