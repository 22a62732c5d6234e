import type { Value } from '../ir/tensor.js';
import type { Family, Net } from './contract.js';
import { CONVENTION, makeDivisible } from './convention.js';
import { defineFamily } from './family.js';
import { convBn, convBnAct, dense, finish } from './layers.js';

/**
 * MobileNetV2, Table 2 of arXiv 1801.04381: after a 3x3 stem conv (32 channels, stride 2), rows of
 * [t expansion, c output channels, n repeats, s stride of the first repeat]. `t: 'T'` is the model's expansion
 * factor (6 in the paper).
 */
export const V2_ROWS: readonly (readonly [t: 1 | 'T', c: number, n: number, s: number])[] = [
  [1, 16, 1, 1],
  ['T', 24, 2, 2],
  ['T', 32, 3, 2],
  ['T', 64, 4, 2],
  ['T', 96, 3, 1],
  ['T', 160, 3, 2],
  ['T', 320, 1, 1],
];
const V2_STEM = 32;
const V2_HEAD = 1280;

/**
 * The inverted residual with linear bottleneck (Table 1): 1x1 expand + ReLU6 (skipped when t = 1), 3x3 depthwise
 * + ReLU6, 1x1 project with no activation; a residual add when the stride is 1 and channels are unchanged.
 * Names follow torchvision: `${name}.conv.{0,1,2,3}`.
 */
function invertedResidual(net: Net, x: Value, name: string, t: number, out: number, stride: number): Value {
  const inp = x.type.shape[1] as number;
  const hidden = Math.round(inp * t);
  let y = x;
  let i = 0;
  if (t !== 1) y = convBnAct(net, y, `${name}.conv.${i++}`, { out: hidden, kernel: 1, act: 'relu6' });
  y = convBnAct(net, y, `${name}.conv.${i++}`, { out: hidden, kernel: 3, stride, group: hidden, act: 'relu6' });
  y = convBn(net, y, `${name}.conv.${i}`, `${name}.conv.${i + 1}`, out);
  return stride === 1 && inp === out ? net.b.add(x, y, `${name}.add`) : y;
}

/** v2's own option: the expansion factor t of every bottleneck but the first. */
interface V2Options {
  readonly expansion: number;
}

function mobilenetV2(net: Net, input: Value, _conv: unknown, _arch: 'v2', options: V2Options): void {
  const { cfg } = net;
  const ch = (c: number) => makeDivisible(c * cfg.width);
  let x = convBnAct(net, input, 'features.0', { out: ch(V2_STEM), kernel: 3, stride: 2, act: 'relu6' });
  let index = 1;
  for (const [t, c, n, s] of V2_ROWS) {
    for (let r = 0; r < n; r++) {
      x = invertedResidual(net, x, `features.${index++}`, t === 'T' ? options.expansion : t, ch(c), r === 0 ? s : 1);
    }
  }
  // "we apply width multiplier to all layers except the very last convolutional layer" (for widths below 1)
  const head = makeDivisible(V2_HEAD * Math.max(1, cfg.width));
  x = convBnAct(net, x, `features.${index}`, { out: head, kernel: 1, act: 'relu6' });
  finish(net, x, (pooled) => dense(net, pooled, 'classifier.1', cfg.classes));
}

export const V2: Family<'v2'> = defineFamily({
  name: 'v2',
  archs: ['v2'],
  help: 'MobileNetV2 (Sandler et al. 2018): inverted residuals, linear bottlenecks',
  // v2 has no choices of its own: the shared ones are all.
  conventions: CONVENTION,
  defaultConvention: 'reference',
  options: {
    expansion: {
      name: 'expansion',
      neutral: 6,
      value: 'T',
      help: 'bottleneck expansion factor, 1 to 16 (default 6)',
      check: { ok: (t) => t >= 1 && t <= 16, expected: 'a number from 1 to 16' },
    },
  },
  resolution: () => 224,
  dropout: 0.2,
  weights: {
    native: 'torchvision',
    classifier: { torchvision: 'classifier.1', timm: 'classifier' },
    timm: {
      stages: () => [1, 2, 3, 4, 3, 3, 1],
      head: (next) => [
        [`features.${next}.0`, 'conv_head'],
        [`features.${next}.1`, 'bn2'],
        ['classifier.1', 'classifier'],
      ],
    },
  },
  build: mobilenetV2,
});
