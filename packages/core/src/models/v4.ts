import type { Value } from '../ir/tensor.js';
import type { Family, Net } from './contract.js';
import { makeDivisible } from './convention.js';
import { defineFamily } from './family.js';
import { type V4Net, convBlock, fusedIB, mobileMqa, stemAndHead, uib } from './v4-blocks.js';
import { V4_CONVENTION, type V4ConventionSpec } from './v4-convention.js';
import { type V4Arch, V4_ARCHS, V4_SPECS } from './v4-specs.js';

export { V4_ARCHS, V4_SPECS, type V4Arch, type V4Block, type V4Spec } from './v4-specs.js';

/** Builds a MobileNetV4 from its table: stem, stages of blocks, efficient head (pool, 1x1 conv + BN + act, Linear). */
function mobilenetV4(net: Net, input: Value, conv: V4ConventionSpec, arch: V4Arch): void {
  const spec = V4_SPECS[arch];
  const v4: V4Net = { ...net, spec, conv };
  const ch = (c: number) => makeDivisible(c * net.cfg.width);
  stemAndHead(v4, input, (stem) => {
    let x = stem;
    spec.stages.forEach((stage, s) => {
      stage.forEach((row, i) => {
        const name = `blocks.${s}.${i}`;
        switch (row.kind) {
          case 'conv':
            x = convBlock(v4, x, name, row.k, row.s, ch(row.out));
            break;
          case 'fused-ib':
            x = fusedIB(v4, x, name, row, ch(row.out));
            break;
          case 'uib':
            x = uib(v4, x, name, row, ch(row.out));
            break;
          case 'mqa':
            x = mobileMqa(v4, x, name, row, ch(row.out));
            break;
        }
      });
    });
    return x;
  });
}

export const V4: Family<V4Arch> = defineFamily({
  name: 'v4',
  archs: V4_ARCHS,
  help: 'MobileNetV4 (Qin et al. 2024): universal inverted bottlenecks, Mobile MQA in the hybrids',
  // v4 exists only as timm's port and the authors' TF code: no torchvision or Keras model to follow.
  conventions: V4_CONVENTION,
  defaultConvention: 'timm',
  options: {},
  resolution: (arch) => V4_SPECS[arch].resolution,
  dropout: 0.2,
  // torchvision has no v4: our parameter names are timm's state_dict keys.
  weights: { native: 'timm', classifier: { timm: 'classifier' } },
  build: mobilenetV4,
});
