import { MobileNetError, OnnxFormatError } from '../ir/errors.js';
import { type Graph, checkGraph } from '../ir/graph.js';
import type { Attr, Node } from '../ir/node.js';
import { OPS, SUPPORTED_OPS } from '../ir/ops.js';
import type { Dim, DType, Initializer, TensorData, Value } from '../ir/tensor.js';
import { BYTES_PER_ELEMENT, dtypeOfCode } from '../ir/tensor.js';
import { raiseReduceMean } from './opset.js';
// Proto types stay in function bodies and private helpers: this file's declarations are public, and onnx-proto's
// types do not type-check in a consumer's project (they need protobufjs's `Long` global).
import {
  type IAttributeProto,
  type INodeProto,
  type ITensorProto,
  type IValueInfoProto,
  decodeModel,
  defaultOpset,
  onnx,
  toNumber,
} from './proto.js';

export interface ReadModel {
  readonly graph: Graph;
  readonly opset: number;
  readonly irVersion: number;
  readonly producer: string;
}

function typedArray(dtype: DType, bytes: Uint8Array, where: string, count: number): TensorData {
  const n = BYTES_PER_ELEMENT[dtype];
  if (bytes.byteLength !== count * n)
    throw new OnnxFormatError(where, `${count * n} bytes of raw_data`, `${bytes.byteLength}`);
  // A view when aligned (no copy of the weights); a copy otherwise.
  const aligned = bytes.byteOffset % n === 0 ? bytes : new Uint8Array(bytes);
  const { buffer, byteOffset } = aligned;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, count);
    case 'float16':
      return new Uint16Array(buffer, byteOffset, count);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, count);
    case 'int32':
      return new Int32Array(buffer, byteOffset, count);
    case 'int8':
      return new Int8Array(buffer, byteOffset, count);
    default:
      return new Uint8Array(buffer, byteOffset, count);
  }
}

/** Elements in one tensor of a model: far above any MobileNet's largest, far below what exhausts memory. */
const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** Dims of a tensor or value: non-negative safe integers (a negative dim is not a size). */
function checkDims(dims: readonly number[], where: string, what: string): void {
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new OnnxFormatError(
      where,
      `${what} of non-negative integers`,
      `[${dims.slice(0, 8).join(', ')}${dims.length > 8 ? ', ...' : ''}]`,
    );
}

function readTensor(t: ITensorProto, where: string): Initializer {
  const dtype = dtypeOfCode(t.dataType ?? 0);
  if (!dtype)
    throw new OnnxFormatError(
      where,
      'a tensor of float32, float16, int64, int32, int8, uint8 or bool',
      `data_type ${t.dataType}`,
    );
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    throw new OnnxFormatError(where, 'tensor data inside the file', 'external data');
  const dims = (t.dims ?? []).map(toNumber);
  checkDims(dims, where, 'dims');
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > MAX_TENSOR_ELEMENTS)
    throw new OnnxFormatError(
      where,
      `at most ${MAX_TENSOR_ELEMENTS} elements`,
      `${count} for dims [${dims.join(', ')}]`,
    );
  const name = t.name ?? '';
  let data: TensorData;
  if (t.rawData && t.rawData.length > 0) data = typedArray(dtype, t.rawData, where, count);
  else if (dtype === 'float32') data = Float32Array.from(t.floatData ?? []);
  else if (dtype === 'int64') data = BigInt64Array.from((t.int64Data ?? []).map((v) => BigInt(toNumber(v))));
  else if (dtype === 'float16') data = Uint16Array.from(t.int32Data ?? []);
  else if (dtype === 'int32') data = Int32Array.from(t.int32Data ?? []);
  else if (dtype === 'int8') data = Int8Array.from(t.int32Data ?? []);
  else data = Uint8Array.from(t.int32Data ?? []);
  if (data.length !== count)
    throw new OnnxFormatError(where, `${count} elements for dims [${dims.join(', ')}]`, `${data.length}`);
  return { name, dtype, dims, data };
}

function readAttr(a: IAttributeProto, where: string): Attr {
  const A = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case A.INT:
      return { kind: 'int', value: toNumber(a.i) };
    case A.FLOAT:
      return { kind: 'float', value: a.f ?? 0 };
    case A.INTS:
      return { kind: 'ints', value: (a.ints ?? []).map(toNumber) };
    case A.FLOATS:
      return { kind: 'floats', value: [...(a.floats ?? [])] };
    case A.STRING:
      return { kind: 'string', value: new TextDecoder().decode(a.s ?? new Uint8Array()) };
    default:
      throw new OnnxFormatError(
        `${where} attribute '${a.name}'`,
        'an INT, FLOAT, INTS, FLOATS or STRING attribute',
        `type ${a.type}`,
      );
  }
}

function readValue(v: IValueInfoProto, where: string): Value {
  const t = v.type?.tensorType;
  const dtype = dtypeOfCode(t?.elemType ?? 0);
  if (!t || !dtype)
    throw new OnnxFormatError(`${where} '${v.name}'`, 'a tensor type we support', JSON.stringify(v.type ?? null));
  const shape: Dim[] = (t.shape?.dim ?? []).map((d, i) =>
    d.dimParam ? d.dimParam : d.dimValue != null ? toNumber(d.dimValue) : i === 0 ? 'N' : `d${i}`,
  );
  checkDims(
    shape.filter((d): d is number => typeof d === 'number'),
    `${where} '${v.name}'`,
    'a shape',
  );
  return { name: v.name ?? '', type: { dtype, shape } };
}

/** An op we support, by own key (names such as 'toString' or 'constructor' are not ops). */
const isOp = (op: string | null | undefined): op is string => typeof op === 'string' && Object.hasOwn(OPS, op);

function readNode(n: INodeProto, index: number, source: string): Node {
  const name = n.name || `${n.opType}_${index}`;
  const where = `${source}: node '${name}' (${n.opType})`;
  if (n.domain && n.domain !== 'ai.onnx')
    throw new OnnxFormatError(where, 'an op of the default ONNX domain', `domain '${n.domain}'`);
  const attrs: Record<string, Attr> = { ...(isOp(n.opType) ? OPS[n.opType]!.onnxDefaults : undefined) };
  // A Constant's tensor is taken by fromOnnx; every other attribute is typed here (as an own property: a name such
  // as '__proto__' must not reach the prototype).
  for (const a of n.attribute ?? []) {
    if ((a.name ?? '') in Object.prototype)
      throw new OnnxFormatError(
        `${where} attribute '${a.name}'`,
        'an attribute name of the op',
        `'${a.name}', a name no ONNX op has`,
      );
  }
  for (const a of n.attribute ?? [])
    if (n.opType !== 'Constant')
      Object.defineProperty(attrs, a.name ?? '', {
        value: readAttr(a, where),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  return { name, op: n.opType ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
}

/**
 * Reads ONNX bytes into the IR: every node must be an op we support (the error names the first that is not),
 * Constant nodes become initializers, and shapes are inferred again and checked.
 */
export function fromOnnx(bytes: Uint8Array, source = 'model'): ReadModel {
  try {
    return read(bytes, source);
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    // A bug met by a hostile file still names the file; the fuzzers treat this message as a failure.
    const err = e as Error;
    throw new OnnxFormatError(
      source,
      'an ONNX model this reader can handle',
      'data it could not handle',
      `unexpected ${err?.name ?? 'error'}: ${String(err?.message ?? e).slice(0, 200)}`,
    );
  }
}

function read(bytes: Uint8Array, source: string): ReadModel {
  const model = decodeModel(bytes, source);
  const g = model.graph!;
  const initializers = new Map<string, Initializer>();
  for (const t of g.initializer ?? [])
    initializers.set(t.name ?? '', readTensor(t, `${source}: initializer '${t.name}'`));
  let nodes: Node[] = [];
  (g.node ?? []).forEach((n, i) => {
    const node = readNode(n, i, source);
    if (node.op === 'Constant') {
      const t = n.attribute?.find((a) => a.name === 'value')?.t;
      if (!t)
        throw new OnnxFormatError(
          `${source}: node '${node.name}' (Constant)`,
          "a 'value' tensor attribute",
          'another form',
        );
      initializers.set(node.outputs[0]!, {
        ...readTensor(t, `${source}: node '${node.name}'`),
        name: node.outputs[0]!,
      });
      return;
    }
    // Exporters alias shared constants through Identity nodes: the alias becomes the constant itself.
    const aliased = node.op === 'Identity' ? initializers.get(node.inputs[0]!) : undefined;
    if (aliased) {
      initializers.set(node.outputs[0]!, { ...aliased, name: node.outputs[0]! });
      return;
    }
    if (!isOp(node.op)) {
      throw new OnnxFormatError(
        `${source}: node '${node.name}'`,
        `one of the supported ops (${SUPPORTED_OPS.join(', ')})`,
        `op '${node.op}'`,
      );
    }
    nodes.push(node);
  });
  nodes = nodes.map((n) => raiseReduceMean(n, (name) => initializers.get(name)));
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const inits = [...initializers.values()].filter((i) => used.has(i.name));
  const inputs = (g.input ?? [])
    .filter((v) => !initializers.has(v.name ?? ''))
    .map((v) => readValue(v, `${source}: graph input`));
  const declaredOutputs = (g.output ?? []).map((v) => readValue(v, `${source}: graph output`));
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? [])
    Object.defineProperty(metadata, p.key ?? '', {
      value: p.value ?? '',
      enumerable: true,
      writable: true,
      configurable: true,
    });
  const draft: Graph = { name: g.name ?? '', inputs, outputs: [], initializers: inits, nodes, values: [], metadata };
  let graph: Graph;
  try {
    graph = checkGraph(draft);
  } catch (e) {
    if (e instanceof MobileNetError)
      throw new OnnxFormatError(`${source}: ${e.where}`, e.expected, e.received, e.detail);
    throw e;
  }
  const types = new Map([...graph.values, ...graph.inputs].map((v) => [v.name, v.type]));
  const outputs = declaredOutputs.map((o) => {
    const type = types.get(o.name);
    if (!type)
      throw new OnnxFormatError(
        `${source}: graph output '${o.name}'`,
        'a value produced by a node',
        'nothing produces it',
      );
    return { name: o.name, type };
  });
  const outNames = new Set(outputs.map((o) => o.name));
  graph = { ...graph, outputs, values: graph.values.filter((v) => !outNames.has(v.name)) };
  return {
    graph,
    opset: defaultOpset(model),
    irVersion: toNumber(model.irVersion),
    producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
  };
}
