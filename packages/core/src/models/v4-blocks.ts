import { int, str } from '../ir/node.js';
import type { Value } from '../ir/tensor.js';
import type { Net } from './contract.js';
import { makeDivisible } from './convention.js';
import { convThenBn, headless } from './layers.js';
import type { V4ConventionSpec } from './v4-convention.js';
import type { V4Block, V4Spec } from './v4-specs.js';

/** The MobileNetV4 blocks, one function per kind. Module names are timm's, so its state_dict loads by identity. */
export interface V4Net extends Net {
  readonly spec: V4Spec;
  /** The convention's v4 choices, resolved once for the model. */
  readonly conv: V4ConventionSpec;
}
const channels = (x: Value): number => x.type.shape[1] as number;

function act(net: V4Net, x: Value, name: string): Value {
  if (net.spec.act === 'relu') return net.b.relu(x, name);
  return net.b.node('Gelu', name, [x.name], { approximate: str(net.conv.gelu) });
}

interface ConvBn {
  readonly out: number;
  readonly k: number;
  readonly s?: number;
  readonly depthwise?: boolean;
  readonly act: boolean;
}

/** Conv (no bias) at `${conv}`, BN at `${bn}`, optional activation at `${bn}.act`. */
function convBnAct(net: V4Net, x: Value, conv: string, bn: string, o: ConvBn): Value {
  const group = o.depthwise ? channels(x) : 1;
  const y = convThenBn(net, x, conv, bn, { out: o.out, kernel: o.k, stride: o.s ?? 1, group });
  return o.act ? act(net, y, `${bn}.act`) : y;
}

/** LayerScale (x * gamma per channel; timm stores gamma as [C]) when the model has it, then the residual. */
function finishBlock(net: V4Net, x: Value, y: Value, name: string, stride: number): Value {
  const { b } = net;
  let out = y;
  if (net.spec.layerScale) {
    const c = channels(y);
    const gamma = b.param(`${name}.layer_scale.gamma`, [c], 'layer-scale');
    const shape = b.constant({
      name: `${name}.layer_scale.shape`,
      dtype: 'int64',
      dims: [3],
      data: BigInt64Array.of(BigInt(c), 1n, 1n),
    });
    const g = b.node('Reshape', `${name}.layer_scale.view`, [gamma, shape]);
    out = b.mul(y, g, `${name}.layer_scale`);
  }
  return stride === 1 && channels(x) === channels(y) ? b.add(x, out, `${name}.add`) : out;
}

/** Stem (conv_stem, bn1), the blocks, then timm's MobileNetV4 head: pool, conv_head, norm_head (BN + act), classifier. */
export function stemAndHead(net: V4Net, input: Value, body: (stem: Value) => Value): void {
  const { b, cfg, spec, conv } = net;
  const stem = convBnAct(net, input, 'conv_stem', 'bn1', {
    out: conv.stem(spec.stem, cfg.width),
    k: 3,
    s: 2,
    act: true,
  });
  const features = body(stem);
  if (!cfg.includeTop) {
    headless(net, features, 'global_pool');
    return;
  }
  const pooled = b.globalAveragePool(features, 'global_pool');
  const head = convBnAct(net, pooled, 'conv_head', 'norm_head', {
    out: conv.head(spec.head, cfg.width),
    k: 1,
    act: true,
  });
  const vector = b.flatten(head, 'flatten');
  b.output(b.linear(b.dropout(vector), 'classifier', cfg.classes, 'logits'));
  if (cfg.embedding) b.output(b.flatten(pooled, 'embedding'));
}

/** Conv2D-BN-act, no residual (timm ConvBnAct: `conv`, `bn1`). */
export function convBlock(net: V4Net, x: Value, name: string, k: number, s: number, out: number): Value {
  return convBnAct(net, x, `${name}.conv`, `${name}.bn1`, { out, k, s, act: true });
}

/** FusedIB (timm EdgeResidual: `conv_exp`, `bn1`, `conv_pwl`, `bn2`): k x k expand with the stride, 1x1 project. */
export function fusedIB(
  net: V4Net,
  x: Value,
  name: string,
  row: Extract<V4Block, { kind: 'fused-ib' }>,
  out: number,
): Value {
  const mid = makeDivisible(channels(x) * row.e);
  const y = convBnAct(net, x, `${name}.conv_exp`, `${name}.bn1`, { out: mid, k: row.k, s: row.s, act: true });
  const z = convBnAct(net, y, `${name}.conv_pwl`, `${name}.bn2`, { out, k: 1, act: false });
  return row.s === 1 && channels(x) === out ? net.b.add(x, z, `${name}.add`) : z;
}

/**
 * UIB (timm UniversalInvertedResidual): dw_start (BN, no act; strided only when there is no middle dw), pw_exp to
 * make_divisible(in * e, 8) (BN, act), dw_mid (BN, act; carries the stride), pw_proj (BN), LayerScale, residual.
 */
export function uib(net: V4Net, x: Value, name: string, row: Extract<V4Block, { kind: 'uib' }>, out: number): Value {
  const inp = channels(x);
  let y = x;
  if (row.start)
    y = convBnAct(net, y, `${name}.dw_start.conv`, `${name}.dw_start.bn`, {
      out: inp,
      k: row.start,
      s: row.mid ? 1 : row.s,
      depthwise: true,
      act: false,
    });
  const mid = makeDivisible(inp * row.e);
  y = convBnAct(net, y, `${name}.pw_exp.conv`, `${name}.pw_exp.bn`, { out: mid, k: 1, act: true });
  if (row.mid)
    y = convBnAct(net, y, `${name}.dw_mid.conv`, `${name}.dw_mid.bn`, {
      out: mid,
      k: row.mid,
      s: row.s,
      depthwise: true,
      act: true,
    });
  y = convBnAct(net, y, `${name}.pw_proj.conv`, `${name}.pw_proj.bn`, { out, k: 1, act: false });
  return finishBlock(net, x, y, name, row.s);
}

/** Reshape to a fixed shape; a leading 0 copies the batch dimension, so a dynamic batch stays dynamic. */
function reshape(net: V4Net, x: Value, name: string, dims: readonly number[]): Value {
  const shape = net.b.constant({
    name: `${name}.shape`,
    dtype: 'int64',
    dims: [dims.length],
    data: BigInt64Array.from(dims.map(BigInt)),
  });
  return net.b.node('Reshape', name, [x.name, shape]);
}

const transpose = (net: V4Net, x: Value, name: string, perm: readonly number[]): Value =>
  net.b.node('Transpose', name, [x.name], { perm: { kind: 'ints', value: perm } });

/** K or V of the single shared head: optional stride-2 depthwise conv + BN (`down_conv`, `norm`), then 1x1 `proj`. */
function keyOrValue(net: V4Net, x: Value, name: string, dim: number, kvStride: number): Value {
  let y = x;
  if (kvStride > 1)
    y = convBnAct(net, y, `${name}.down_conv`, `${name}.norm`, {
      out: channels(x),
      k: 3,
      s: kvStride,
      depthwise: true,
      act: false,
    });
  return net.b.conv(y, `${name}.proj`, { out: dim, kernel: 1 });
}

/**
 * Mobile MQA (timm MobileAttention + MultiQueryAttention2d): BN (`norm`), then `heads` query heads of `dim` channels
 * against one shared key and value head, softmax(Q K^T / sqrt(dim)) V, 1x1 output projection, LayerScale, residual.
 */
export function mobileMqa(
  net: V4Net,
  x: Value,
  name: string,
  row: Extract<V4Block, { kind: 'mqa' }>,
  out: number,
): Value {
  const { b } = net;
  const [h, d] = [row.heads, row.dim];
  const [H, W] = [x.type.shape[2] as number, x.type.shape[3] as number];
  const a = `${name}.attn`;
  const n = b.batchNorm(x, `${name}.norm`, net.cfg.bnEps);
  // The heads share K and V, so they stack along the rows: one [B, h*HW, d] x [B, d, P] product instead of h
  // broadcast ones. Same values as timm's [B, h, HW, d] x [B, 1, d, P]; OpenCV 4.6 cannot broadcast a MatMul's batch
  // dimensions (docs/elsewhere.md); onnxruntime runs both forms equally fast.
  // q: [B, h*d, H, W] -> [B, h, d, HW] -> [B, h, HW, d] -> [B, h*HW, d], scaled.
  const q0 = b.conv(n, `${a}.query.proj`, { out: h * d, kernel: 1 });
  const q1 = transpose(
    net,
    reshape(net, q0, `${a}.query.reshape`, [0, h, d, H * W]),
    `${a}.query.transpose`,
    [0, 1, 3, 2],
  );
  const q = b.node('Div', `${a}.query.scale`, [
    reshape(net, q1, `${a}.query.rows`, [0, h * H * W, d]).name,
    b.scalar(Math.sqrt(d)),
  ]);
  // k: [B, d, Hk, Wk] viewed as K^T [B, d, P]; v: [B, d, Hk, Wk] -> [B, d, P] -> [B, P, d].
  const k = keyOrValue(net, n, `${a}.key`, d, row.kvStride);
  const p = (k.type.shape[2] as number) * (k.type.shape[3] as number);
  const kT = reshape(net, k, `${a}.key.reshape`, [0, d, p]);
  const v0 = keyOrValue(net, n, `${a}.value`, d, row.kvStride);
  const v = transpose(net, reshape(net, v0, `${a}.value.reshape`, [0, d, p]), `${a}.value.transpose`, [0, 2, 1]);
  const logits = b.node('MatMul', `${a}.qk`, [q.name, kT.name]);
  const attn = b.node('Softmax', `${a}.softmax`, [logits.name], { axis: int(-1) });
  // o: [B, h*HW, d] -> [B, h, HW, d] -> [B, h, d, HW] -> [B, h*d, H, W] (channel = head * d + i, as timm's reshape).
  const o = reshape(net, b.node('MatMul', `${a}.av`, [attn.name, v.name]), `${a}.output.heads`, [0, h, H * W, d]);
  const o1 = reshape(net, transpose(net, o, `${a}.output.transpose`, [0, 1, 3, 2]), `${a}.output.reshape`, [
    0,
    h * d,
    H,
    W,
  ]);
  const y = b.conv(o1, `${a}.output.proj`, { out, kernel: 1 });
  return finishBlock(net, x, y, name, 1);
}
