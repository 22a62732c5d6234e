// The shared pieces of every MobileNet: conv-BN-activation, SE, the classifier head. Families build with these.
import type { Value } from '../ir/tensor.js';
import type { Net } from './contract.js';

export type { Net } from './contract.js';

export type Activation = 'relu' | 'relu6' | 'hswish' | 'none';

export function activate(net: Net, x: Value, act: Activation, name: string): Value {
  switch (act) {
    case 'relu':
      return net.b.relu(x, name);
    case 'relu6':
      return net.b.relu6(x, name);
    case 'hswish':
      return net.b.hardSwish(x, name);
    case 'none':
      return x;
  }
}

/**
 * Padding of a k x k conv: symmetric (PyTorch), or TF 'SAME', which for stride 2 on an even size pads one
 * less before than after.
 */
function pads(net: Net, x: Value, kernel: number, stride: number, dilation: number): [number, number, number, number] {
  const p = (dilation * (kernel - 1)) >> 1;
  if (!net.cfg.spec.tfSamePadding || stride === 1) return [p, p, p, p];
  const size = x.type.shape[2] as number;
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
  const before = total >> 1;
  return [before, before, total - before, total - before];
}

/** A conv's shape: out channels, kernel, stride, groups, dilation. */
export interface ConvShape {
  readonly out: number;
  readonly kernel: number;
  readonly stride?: number;
  readonly group?: number;
  readonly dilation?: number;
}

/** A conv (no bias, padded as the convention pads) at `conv`, then BN at `bn`: every family's conv-BN, named its way. */
export function convThenBn(net: Net, x: Value, conv: string, bn: string, o: ConvShape): Value {
  const stride = o.stride ?? 1;
  const dilation = o.dilation ?? 1;
  const y = net.b.conv(x, conv, {
    out: o.out,
    kernel: o.kernel,
    stride,
    dilation,
    group: o.group ?? 1,
    pads: pads(net, x, o.kernel, stride, dilation),
  });
  return net.b.batchNorm(y, bn, net.cfg.bnEps);
}

export interface CnaOptions extends ConvShape {
  readonly act: Activation;
}

/** torchvision's Conv2dNormActivation: `${name}.0` conv (no bias), `${name}.1` BN, `${name}.2` activation. */
export function convBnAct(net: Net, x: Value, name: string, o: CnaOptions): Value {
  return activate(net, convThenBn(net, x, `${name}.0`, `${name}.1`, o), o.act, `${name}.2`);
}

/** A conv followed by BN and no activation (the linear bottleneck's projection), at `${conv}` and `${bn}`. */
export function convBn(net: Net, x: Value, conv: string, bn: string, out: number): Value {
  return convThenBn(net, x, conv, bn, { out, kernel: 1 });
}

/** Squeeze-and-excite with a hard-sigmoid gate (torchvision's SqueezeExcitation: fc1, ReLU, fc2, gate). */
export function squeezeExcite(net: Net, x: Value, name: string, squeeze: number): Value {
  const { b } = net;
  const c = x.type.shape[1] as number;
  let s = b.globalAveragePool(x, `${name}.avgpool`);
  s = b.relu(b.conv(s, `${name}.fc1`, { out: squeeze, kernel: 1, bias: true }), `${name}.activation`);
  s = b.hardSigmoid(b.conv(s, `${name}.fc2`, { out: c, kernel: 1, bias: true }), `${name}.scale_activation`);
  return b.mul(x, s, `${name}.scale`);
}

/** A fully-connected layer: Linear on a vector (PyTorch) or a 1x1 conv with bias on a 1x1 map (TF, Keras). */
export function dense(net: Net, x: Value, name: string, out: number): Value {
  if (net.cfg.spec.convHead) return net.b.conv(x, name, { out, kernel: 1, bias: true });
  return net.b.linear(x, name, out);
}

/**
 * Pools the last feature map and adds the outputs: 'logits' from `top` (given the pooled map or vector, as the
 * convention's head wants), and 'embedding' (the pooled vector) when asked; without a top, 'features' and
 * 'embedding'.
 */
export function finish(net: Net, features: Value, top: (pooled: Value) => Value): void {
  const { b, cfg } = net;
  const convHead = cfg.spec.convHead;
  if (!cfg.includeTop) {
    headless(net, features, 'avgpool');
    return;
  }
  const map = b.globalAveragePool(features, 'avgpool');
  const vector =
    cfg.embedding || !convHead ? b.flatten(map, 'flatten', cfg.embedding ? 'embedding' : 'flatten') : undefined;
  const y = top(convHead ? map : vector!);
  b.output(convHead ? b.flatten(y, 'logits.flatten', 'logits') : b.rename(y, 'logits'));
  if (vector && cfg.embedding) b.output(vector);
}

/** The model without a classifier: outputs the last feature map ('features') and its pool at `pool` ('embedding'). */
export function headless(net: Net, features: Value, pool: string): void {
  const { b } = net;
  const map = b.globalAveragePool(b.output(b.rename(features, 'features')), pool);
  b.output(b.flatten(map, 'flatten', 'embedding'));
}
