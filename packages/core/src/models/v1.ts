import type { Value } from '../ir/tensor.js';
import { CONVENTION } from './convention.js';
import { type Net, convBnAct, dense, finish } from './layers.js';

/**
 * MobileNet v1, Table 1 of arXiv 1704.04861: after the 3x3 stem conv (32 channels, stride 2), thirteen depthwise
 * separable layers, each [pointwise output channels, depthwise stride].
 */
export const V1_LAYERS: readonly (readonly [channels: number, stride: number])[] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  // Table 1 prints "s2" here, but its input is already 7x7: an erratum. TF-slim, Keras and timm all use stride 1.
  [1024, 1],
];

/** A depthwise separable layer: 3x3 depthwise conv-BN-act (`.0`), then 1x1 pointwise conv-BN-act (`.1`). */
function depthwiseSeparable(net: Net, x: Value, name: string, out: number, stride: number): Value {
  const act = CONVENTION[net.cfg.convention].v1Activation;
  const c = x.type.shape[1] as number;
  const dw = convBnAct(net, x, `${name}.0`, { out: c * net.cfg.depthMultiplier, kernel: 3, stride, group: c, act });
  return convBnAct(net, dw, `${name}.1`, { out, kernel: 1, act });
}

export function mobilenetV1(net: Net, input: Value): void {
  const { cfg } = net;
  const conv = CONVENTION[cfg.convention];
  const ch = (c: number) => conv.v1Channels(c, cfg.width);
  let x = convBnAct(net, input, 'features.0', { out: ch(32), kernel: 3, stride: 2, act: conv.v1Activation });
  V1_LAYERS.forEach(([c, s], i) => {
    x = depthwiseSeparable(net, x, `features.${i + 1}`, ch(c), s);
  });
  finish(net, x, (pooled) => dense(net, pooled, 'classifier.1', cfg.classes));
}
