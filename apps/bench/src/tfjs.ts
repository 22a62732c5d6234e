// TensorFlow.js as the peer a JS user would otherwise pick: our IR graph, same weights, run with tfjs ops (NHWC).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Graph, Node } from '@mobilenet/core';
import * as tf from '@tensorflow/tfjs-core';

const ints = (n: Node, k: string, d: number[]) =>
  n.attrs[k]?.kind === 'ints' ? [...(n.attrs[k].value as number[])] : d;
const num = (n: Node, k: string, d: number) => (n.attrs[k] && 'value' in n.attrs[k] ? (n.attrs[k].value as number) : d);

export type TfjsBackend = 'wasm' | 'cpu';

/** Starts a tfjs backend in Node; the wasm files come from the installed package, nothing is downloaded. */
export async function startTfjs(backend: TfjsBackend, threads: number): Promise<string> {
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(`${dir}/dist/`);
    wasm.setThreadsCount(threads);
  } else await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not start`);
  await tf.ready();
  return tf.getBackend();
}

type Op = (n: Node, x: tf.Tensor[]) => tf.Tensor;
type Layout = 'nhwc' | 'nchw';

/** The graph's initializers as tfjs constants, made on first use and kept (a tidy() would otherwise free them). */
interface Constants {
  has(name: string): boolean;
  /** A Conv's weight, moved from ONNX's [M, C/group, kH, kW] to tfjs's filter layout. */
  weight(n: Node): tf.Tensor;
  /** An initializer as it is (biases, BatchNorm vectors, ONNX-shaped constants). */
  vec(name: string): tf.Tensor;
  /** The first value of a float initializer (Clip's bounds). */
  scalar(name: string): number;
  /** An int64 initializer as numbers (Reshape's shape). */
  shape(name: string): number[];
}

function constants(graph: Graph): Constants {
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  const consts = new Map<string, tf.Tensor>();
  const kept = (key: string, make: () => tf.Tensor) => {
    if (!consts.has(key)) consts.set(key, tf.keep(make()));
    return consts.get(key)!;
  };
  return {
    has: (name) => inits.has(name),
    weight: (n) =>
      kept(`${n.name}#w`, () => {
        const w = inits.get(n.inputs[1]!)!;
        const [m, cg, kh, kw] = w.dims as [number, number, number, number];
        const group = num(n, 'group', 1);
        return tf.tidy(() => {
          const t = tf.tensor4d(w.data as Float32Array, [m, cg, kh, kw]);
          return group === 1
            ? tf.transpose(t, [2, 3, 1, 0])
            : tf.transpose(tf.reshape(t, [group, m / group, kh, kw]), [2, 3, 0, 1]);
        });
      }),
    vec: (name) =>
      kept(name, () => {
        const i = inits.get(name)!;
        return tf.tensor(i.data as Float32Array, i.dims.length ? [...i.dims] : []);
      }),
    scalar: (name) => (inits.get(name)!.data as Float32Array)[0]!,
    shape: (name) => [...(inits.get(name)!.data as BigInt64Array)].map(Number),
  };
}

function conv(c: Constants): Op {
  return (n, [x]) => {
    const [pt, pl, pb, pr] = ints(n, 'pads', [0, 0, 0, 0]);
    const pad: [[0, 0], [number, number], [number, number], [0, 0]] = [
      [0, 0],
      [pt!, pb!],
      [pl!, pr!],
      [0, 0],
    ];
    const [s] = ints(n, 'strides', [1, 1]);
    const group = num(n, 'group', 1);
    const channels = (x as tf.Tensor4D).shape[3];
    let y: tf.Tensor4D;
    if (group === 1) y = tf.conv2d(x as tf.Tensor4D, c.weight(n) as tf.Tensor4D, s!, pad);
    else if (group === channels) y = tf.depthwiseConv2d(x as tf.Tensor4D, c.weight(n) as tf.Tensor4D, s!, pad);
    else throw new Error(`${n.name}: grouped conv with ${group} groups of ${channels} channels has no tfjs op`);
    return n.inputs[2] ? tf.add(y, c.vec(n.inputs[2])) : y;
  };
}

/** Ops that run on NHWC values (the CNN body and the head). */
function nhwcOps(c: Constants): Record<string, Op> {
  return {
    Conv: conv(c),
    BatchNormalization: (n, [x]) =>
      tf.batchNorm(
        x as tf.Tensor4D,
        c.vec(n.inputs[3]!),
        c.vec(n.inputs[4]!),
        c.vec(n.inputs[2]!),
        c.vec(n.inputs[1]!),
        num(n, 'epsilon', 1e-5),
      ),
    GlobalAveragePool: (_, [x]) => tf.mean(x!, [1, 2], true),
    Flatten: (_, [x]) => tf.reshape(x!, [x!.shape[0]!, -1]),
    Gemm: (n, [x]) =>
      tf.add(
        tf.matMul(x as tf.Tensor2D, c.vec(n.inputs[1]!) as tf.Tensor2D, false, num(n, 'transB', 0) === 1),
        c.vec(n.inputs[2]!),
      ),
  };
}

/**
 * MobileNetV4's attention works on the ONNX (NCHW) layout: its Reshape/Transpose/MatMul/Softmax run there, and
 * values move between layouts where a consumer needs the other one (see `inLayout`).
 */
function nchwOps(c: Constants): Record<string, Op> {
  return {
    Reshape: (n, [x]) =>
      tf.reshape(
        x!,
        c.shape(n.inputs[1]!).map((d, i) => (d === 0 ? x!.shape[i]! : d)),
      ),
    Transpose: (n, [x]) => tf.transpose(x!, ints(n, 'perm', [])),
    MatMul: (_, [a, b]) => {
      // ONNX MatMul broadcasts the batch dims (v4's one K/V head against h query heads); tfjs wants them equal.
      const batch = a!.shape.slice(0, -2).map((d, i) => Math.max(d, b!.shape[i]!));
      const tiled = (t: tf.Tensor) => tf.tile(t, [...batch.map((d, i) => d / t.shape[i]!), 1, 1]);
      return tf.matMul(tiled(a!) as tf.Tensor3D, tiled(b!) as tf.Tensor3D);
    },
    Softmax: (n, [x]) => {
      const axis = num(n, 'axis', -1);
      if (axis !== -1 && axis !== x!.rank - 1)
        throw new Error(`${n.name}: Softmax over axis ${axis}: only the last axis has a tfjs op`);
      return tf.softmax(x!);
    },
  };
}

const gelu = (x: tf.Tensor, tanh: boolean) =>
  tanh
    ? tf.mul(
        tf.mul(x, 0.5),
        tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))),
      )
    : tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));

/** Elementwise: run in whichever layout their inputs are in (NCHW if any is). */
function elementwiseOps(c: Constants): Record<string, Op> {
  return {
    Relu: (_, [x]) => tf.relu(x!),
    Clip: (n, [x]) => tf.clipByValue(x!, c.scalar(n.inputs[1]!), c.scalar(n.inputs[2]!)),
    HardSigmoid: (n, [x]) => tf.clipByValue(tf.add(tf.mul(x!, num(n, 'alpha', 0.2)), num(n, 'beta', 0.5)), 0, 1),
    HardSwish: (_, [x]) => tf.mul(x!, tf.div(tf.relu6(tf.add(x!, 3)), 6)),
    Add: (_, [a, b]) => tf.add(a!, b!),
    Mul: (_, [a, b]) => tf.mul(a!, b!),
    Div: (_, [a, b]) => tf.div(a!, b!),
    Gelu: (n, [x]) => gelu(x!, n.attrs.approximate?.kind === 'string' && n.attrs.approximate.value === 'tanh'),
  };
}

interface OpTables {
  readonly nhwc: Record<string, Op>;
  readonly nchw: Record<string, Op>;
  readonly either: Record<string, Op>;
}

/** Runs the graph's nodes in order on `x` (NHWC), each in its table's layout; returns `output` in NHWC. */
function runNodes(graph: Graph, t: OpTables, c: Constants, output: string, x: tf.Tensor4D): tf.Tensor {
  const values = new Map<string, tf.Tensor>([[graph.inputs[0]!.name, x]]);
  const nchw = new Set<string>();
  // A value the attention made (3-D or 4-D, ONNX layout) keeps elementwise ops that read it in that layout.
  const isNchw = (name: string) => nchw.has(name) && values.has(name);
  /** A value in the layout an op runs in; constants are ONNX-shaped ([C, 1, 1] broadcasts over NCHW's C, H, W). */
  const inLayout = (name: string, layout: Layout): tf.Tensor => {
    const v = values.get(name) ?? c.vec(name);
    const from = values.has(name) && !nchw.has(name) ? 'nhwc' : 'nchw';
    if (v.rank === 4 && from !== layout) return tf.transpose(v, from === 'nhwc' ? [0, 3, 1, 2] : [0, 2, 3, 1]);
    if (v.rank === 3 && from === 'nchw' && layout === 'nhwc') return tf.transpose(v, [1, 2, 0]);
    return v;
  };
  for (const n of graph.nodes) {
    let layout: Layout = 'nhwc';
    let y: tf.Tensor;
    if (t.nhwc[n.op])
      y = t.nhwc[n.op]!(
        n,
        n.inputs.filter((i) => !c.has(i)).map((i) => inLayout(i, 'nhwc')),
      );
    else if (t.nchw[n.op]) {
      layout = 'nchw';
      y = t.nchw[n.op]!(
        n,
        (n.op === 'Reshape' ? [n.inputs[0]!] : n.inputs).map((i) => inLayout(i, 'nchw')),
      );
    } else {
      // Clip's bounds are read by name; the other elementwise ops take constants as operands.
      const inputs = n.op === 'Clip' ? n.inputs.slice(0, 1) : n.inputs;
      layout = inputs.some(isNchw) ? 'nchw' : 'nhwc';
      y = t.either[n.op]!(
        n,
        inputs.map((i) => inLayout(i, layout)),
      );
    }
    values.set(n.outputs[0]!, y);
    if (layout === 'nchw') nchw.add(n.outputs[0]!);
  }
  return inLayout(output, 'nhwc');
}

/** Compiles an IR graph into a tfjs function: weights moved to NHWC layouts once, then op by op. */
export function compile(graph: Graph): (x: tf.Tensor4D) => tf.Tensor {
  const c = constants(graph);
  const tables: OpTables = { nhwc: nhwcOps(c), nchw: nchwOps(c), either: elementwiseOps(c) };
  for (const n of graph.nodes)
    if (!tables.nhwc[n.op] && !tables.nchw[n.op] && !tables.either[n.op])
      throw new Error(`${n.name}: op ${n.op} has no tfjs translation`);
  const output = graph.outputs.find((o) => o.name === 'logits') ?? graph.outputs[0]!;
  return (x) => tf.tidy(() => runNodes(graph, tables, c, output.name, x));
}

/** NCHW (ONNX) to NHWC (tfjs) for the same input. */
export function toNhwc(x: Float32Array, n: number, c: number, h: number, w: number): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(x, [n, c, h, w]), [0, 2, 3, 1]));
}
