import { GraphError } from './errors.js';
import { type Graph, TypeScope } from './graph.js';
import { type ParamFiller, type ParamKind, heNormalFill } from './params.js';
import { type Attr, type Node, float, int, ints } from './node.js';
import type { Dim, DType, Initializer, TensorType, Value } from './tensor.js';

export interface BuilderOptions {
  /** Where parameter data comes from; default: `heNormalFill(0)`. */
  readonly fill?: ParamFiller;
  /** @deprecated The old name of `fill`. */
  readonly init?: ParamFiller;
}

export interface ConvOptions {
  readonly out: number;
  readonly kernel: number;
  readonly stride?: number;
  /** [top, left, bottom, right]; default symmetric (k-1)/2 * dilation, as torchvision pads. */
  readonly pads?: readonly [number, number, number, number];
  readonly group?: number;
  readonly dilation?: number;
  readonly bias?: boolean;
}

/**
 * Builds a graph one layer at a time. Every call types its output at once, so a wrong shape is reported at the
 * layer that causes it. Parameter names are `${name}.weight` / `.bias` (/ `.running_mean` / `.running_var`),
 * the module paths of a PyTorch state_dict.
 */
export class GraphBuilder {
  private readonly scope = new TypeScope();
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly nodes: Node[] = [];
  private readonly fill: ParamFiller;
  readonly metadata: Record<string, string> = {};

  constructor(
    readonly name: string,
    options: BuilderOptions = {},
  ) {
    this.fill = options.fill ?? options.init ?? heNormalFill(0);
  }

  input(name: string, shape: readonly Dim[], dtype: DType = 'float32'): Value {
    const v: Value = { name, type: { dtype, shape } };
    this.scope.declare(name, v.type, `graph input '${name}'`);
    this.inputs.push(v);
    return v;
  }

  output(v: Value): Value {
    this.outputs.push(v);
    return v;
  }

  typeOf(name: string): TensorType {
    const t = this.scope.types.get(name);
    if (!t) throw new GraphError('dangling-input', 'builder', 'a defined value', `'${name}'`);
    return t;
  }

  /** Adds a parameter whose data comes from the builder's filler. */
  param(name: string, dims: readonly number[], kind: ParamKind): string {
    return this.constant({ name, dtype: 'float32', dims, data: this.fill({ name, dims, kind }) });
  }

  /** Adds a constant once; asking again for the same name returns the existing one. */
  constant(init: Initializer): string {
    if (this.scope.constants.has(init.name)) return init.name;
    this.scope.addInitializer(init);
    this.initializers.push(init);
    return init.name;
  }

  scalar(value: number): string {
    return this.constant({ name: `const.${value}`, dtype: 'float32', dims: [], data: Float32Array.of(value) });
  }

  node(op: string, name: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, output = name): Value {
    const node: Node = { name, op, inputs, outputs: [output], attrs };
    const [type] = this.scope.addNode(node);
    this.nodes.push(node);
    return { name: output, type: type! };
  }

  conv(x: Value, name: string, o: ConvOptions): Value {
    const c = x.type.shape[1];
    const group = o.group ?? 1;
    if (typeof c !== 'number') throw new GraphError('shape', `node '${name}' (Conv)`, 'a fixed channel count', `${c}`);
    const d = o.dilation ?? 1;
    const p = (d * (o.kernel - 1)) >> 1;
    const w = this.param(`${name}.weight`, [o.out, Math.floor(c / group), o.kernel, o.kernel], 'conv');
    const inputs = o.bias ? [x.name, w, this.param(`${name}.bias`, [o.out], 'bias')] : [x.name, w];
    const s = o.stride ?? 1;
    return this.node('Conv', name, inputs, {
      dilations: ints([d, d]),
      group: int(group),
      kernel_shape: ints([o.kernel, o.kernel]),
      pads: ints(o.pads ?? [p, p, p, p]),
      strides: ints([s, s]),
    });
  }

  batchNorm(x: Value, name: string, eps: number): Value {
    const c = x.type.shape[1] as number;
    const ps = (
      [
        ['weight', 'bn-weight'],
        ['bias', 'bn-bias'],
        ['running_mean', 'bn-mean'],
        ['running_var', 'bn-var'],
      ] as const
    ).map(([suffix, kind]) => this.param(`${name}.${suffix}`, [c], kind));
    return this.node('BatchNormalization', name, [x.name, ...ps], { epsilon: float(eps), momentum: float(0.9) });
  }

  relu(x: Value, name: string): Value {
    return this.node('Relu', name, [x.name]);
  }

  clip(x: Value, name: string, min: number, max: number): Value {
    return this.node('Clip', name, [x.name, this.scalar(min), this.scalar(max)]);
  }

  relu6(x: Value, name: string): Value {
    return this.clip(x, name, 0, 6);
  }

  /** ONNX's default alpha is 0.2; MobileNetV3's hard sigmoid is ReLU6(x+3)/6, so alpha is always written. */
  hardSigmoid(x: Value, name: string, alpha = 1 / 6, beta = 0.5): Value {
    return this.node('HardSigmoid', name, [x.name], { alpha: float(alpha), beta: float(beta) });
  }

  hardSwish(x: Value, name: string): Value {
    return this.node('HardSwish', name, [x.name]);
  }

  add(a: Value, b: Value, name: string): Value {
    return this.node('Add', name, [a.name, b.name]);
  }

  mul(a: Value, b: Value, name: string): Value {
    return this.node('Mul', name, [a.name, b.name]);
  }

  globalAveragePool(x: Value, name: string): Value {
    return this.node('GlobalAveragePool', name, [x.name]);
  }

  flatten(x: Value, name: string, output = name): Value {
    return this.node('Flatten', name, [x.name], { axis: int(1) }, output);
  }

  /** A PyTorch Linear: weight [out, in], y = x W^T + b, written as Gemm(transB=1). */
  linear(x: Value, name: string, out: number, output = name): Value {
    const inF = x.type.shape[1] as number;
    const w = this.param(`${name}.weight`, [out, inF], 'linear');
    const b = this.param(`${name}.bias`, [out], 'bias');
    return this.node('Gemm', name, [x.name, w, b], { alpha: float(1), beta: float(1), transB: int(1) }, output);
  }

  softmax(x: Value, name: string): Value {
    return this.node('Softmax', name, [x.name], { axis: int(-1) });
  }

  /** Dropout is the identity at inference: nothing is emitted. */
  dropout(x: Value): Value {
    return x;
  }

  /** Gives a value a new name (e.g. a graph output's); the producing node and all consumers follow. */
  rename(v: Value, to: string): Value {
    if (v.name === to) return v;
    this.scope.declare(to, v.type, `renamed value '${v.name}'`);
    const swap = (names: readonly string[]) => names.map((n) => (n === v.name ? to : n));
    this.nodes.forEach((n, i) => {
      this.nodes[i] = { ...n, inputs: swap(n.inputs), outputs: swap(n.outputs) };
    });
    this.scope.types.delete(v.name);
    return { name: to, type: v.type };
  }

  build(): Graph {
    if (this.outputs.length === 0)
      throw new GraphError('no-output', `graph '${this.name}'`, 'at least one output', 'none');
    const outs = new Set(this.outputs.map((o) => o.name));
    const values = this.nodes
      .flatMap((n) => n.outputs)
      .filter((n) => !outs.has(n))
      .map((name) => ({ name, type: this.typeOf(name) }));
    return {
      name: this.name,
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      initializers: [...this.initializers],
      nodes: [...this.nodes],
      values,
      metadata: { ...this.metadata },
    };
  }
}
