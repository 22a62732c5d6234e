// The layers detection and segmentation heads add to a MobileNet body: bilinear resize, concat, the SSD head's
// (N, A*K, H, W) -> (N, H*W*A, K) flattening, sigmoid, and conv-BN-activation with PyTorch's BN epsilon.
import { int, ints, str } from '../ir/node.js';
import type { Value } from '../ir/tensor.js';
import { resizeScale } from '../ir/infer-dense.js';
import type { Net } from './contract.js';
import { type Activation, type ConvShape, activate } from './layers.js';

/** A value's [height, width]. */
export const spatial = (x: Value): [number, number] => [x.type.shape[2] as number, x.type.shape[3] as number];

/**
 * torch's F.interpolate(x, size, mode='bilinear', align_corners=False) as ONNX Resize (linear, half_pixel) with
 * per-axis scales: no batch in the constants, so the file takes any batch.
 */
export function resizeBilinear(net: Net, x: Value, name: string, [h, w]: readonly [number, number]): Value {
  const [ih, iw] = spatial(x);
  const scales = net.b.constant({
    name: `${name}.scales`,
    dtype: 'float32',
    dims: [4],
    data: Float32Array.of(1, 1, resizeScale(ih, h), resizeScale(iw, w)),
  });
  return net.b.node('Resize', name, [x.name, '', scales], {
    mode: str('linear'),
    coordinate_transformation_mode: str('half_pixel'),
  });
}

export function concat(net: Net, xs: readonly Value[], name: string, axis: number): Value {
  return net.b.node(
    'Concat',
    name,
    xs.map((x) => x.name),
    { axis: int(axis) },
  );
}

export function sigmoid(net: Net, x: Value, name: string): Value {
  return net.b.node('Sigmoid', name, [x.name]);
}

/** Reshape to a fixed shape whose 0 keeps the batch (ONNX's copy-this-dim), so a dynamic batch still works. */
export function reshape(net: Net, x: Value, name: string, shape: readonly number[]): Value {
  const target = net.b.constant({
    name: `${name}.shape`,
    dtype: 'int64',
    dims: [shape.length],
    data: BigInt64Array.from(shape, BigInt),
  });
  return net.b.node('Reshape', name, [x.name, target]);
}

/**
 * SSDScoringHead's per-map flattening (torchvision ssd.py): (N, A*K, H, W) viewed as (N, A, K, H, W), permuted to
 * (N, H, W, A, K) and reshaped to (N, H*W*A, K): rows in the anchors' order (row, column, box).
 */
export function flattenAnchors(net: Net, x: Value, name: string, columns: number): Value {
  const [h, w] = spatial(x);
  const a = (x.type.shape[1] as number) / columns;
  const split = reshape(net, x, `${name}.view`, [0, a, columns, h, w]);
  const moved = net.b.node('Transpose', `${name}.permute`, [split.name], { perm: ints([0, 3, 4, 1, 2]) });
  return reshape(net, moved, `${name}.reshape`, [0, h * w * a, columns]);
}

/** A 1x1 or k x k conv with a bias (nn.Conv2d's default), padded as PyTorch pads: dilation * (k - 1) / 2. */
export function convBias(net: Net, x: Value, name: string, o: ConvShape): Value {
  return net.b.conv(x, name, { ...o, bias: true });
}

/**
 * nn.Conv2d(bias=False) + nn.BatchNorm2d at PyTorch's default epsilon 1e-5 + activation, at `${conv}`, `${bn}` and
 * `${act}`: the segmentation heads' layers, which do not take the backbone's norm layer (eps 0.001).
 */
export function convBnActAt(
  net: Net,
  x: Value,
  names: { conv: string; bn: string; act: string },
  o: ConvShape & { act: Activation },
): Value {
  const y = net.b.conv(x, names.conv, {
    out: o.out,
    kernel: o.kernel,
    stride: o.stride ?? 1,
    dilation: o.dilation ?? 1,
    group: o.group ?? 1,
  });
  return activate(net, net.b.batchNorm(y, names.bn, TORCH_BN_EPS), o.act, names.act);
}

/** nn.BatchNorm2d's default epsilon. */
export const TORCH_BN_EPS = 1e-5;
