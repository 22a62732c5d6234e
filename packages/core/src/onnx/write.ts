import { type BatchOption, resolveBatch } from '../ir/batch.js';
import { GraphError } from '../ir/errors.js';
import { type Graph, checkGraph } from '../ir/graph.js';
import type { Attr } from '../ir/node.js';
import { DTYPE_CODE, type Dim, type Initializer, type TensorData, type Value } from '../ir/tensor.js';
import { lowerToOpset } from '../passes/lower-opset.js';
import { DEFAULT_OPSET, irVersionFor } from './opset.js';
import { type Target, lowerForTarget } from './targets.js';
import { type IAttributeProto, type ITensorProto, type IValueInfoProto, onnx } from './proto.js';

export interface WriteOptions {
  /** Default opset import version (13-21); default 17. */
  readonly opset?: number;
  /** Rewrites the leading dimension of inputs, outputs and intermediate values: a size, or 'dynamic'. */
  readonly batch?: BatchOption;
  readonly producerVersion?: string;
  readonly docString?: string;
  /** The reader the file is for (default 'onnxruntime'); 'opencv' rewrites what OpenCV 4.6 DNN mis-reads. */
  readonly target?: Target;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A view of the data as little-endian bytes: no copy on little-endian machines. */
function rawBytes(data: TensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  const n = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += n) for (let j = 0; j < n; j++) out[i + j] = bytes[i + n - 1 - j]!;
  return out;
}

function tensorProto(init: Initializer): ITensorProto {
  if (!init.data) {
    throw new GraphError(
      'no-data',
      `initializer '${init.name}'`,
      'tensor data',
      'none (graph was built for analysis only)',
    );
  }
  return { name: init.name, dims: [...init.dims], dataType: DTYPE_CODE[init.dtype], rawData: rawBytes(init.data) };
}

function attrProto(name: string, a: Attr): IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: A.INT, i: a.value };
    case 'float':
      return { name, type: A.FLOAT, f: a.value };
    case 'ints':
      return { name, type: A.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: A.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: A.STRING, s: new TextEncoder().encode(a.value) };
  }
}

function valueInfo(v: Value): IValueInfoProto {
  const dim = (d: Dim) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
  return {
    name: v.name,
    type: { tensorType: { elemType: DTYPE_CODE[v.type.dtype], shape: { dim: v.type.shape.map(dim) } } },
  };
}

function rebatch(graph: Graph, batch: BatchOption | undefined): Graph {
  if (batch === undefined) return graph;
  const b = resolveBatch(batch);
  const old = graph.inputs[0]?.type.shape[0];
  const fix = (v: Value): Value =>
    v.type.shape[0] === old && v.type.shape.length > 0
      ? { ...v, type: { ...v.type, shape: [b, ...v.type.shape.slice(1)] } }
      : v;
  return { ...graph, inputs: graph.inputs.map(fix), outputs: graph.outputs.map(fix), values: graph.values.map(fix) };
}

/**
 * Serializes a graph to ONNX bytes. Checks the graph first, so a file is either valid or not produced at all.
 * The same graph gives the same bytes: attributes and metadata are written in sorted order.
 */
export function toOnnx(graph: Graph, options: WriteOptions = {}): Uint8Array {
  const opset = options.opset ?? DEFAULT_OPSET;
  const irVersion = irVersionFor(opset);
  // The graph passes a file needs: the reader's rewrites, then the forms of the requested opset.
  const lowered = lowerToOpset(opset)(lowerForTarget(graph, options.target ?? 'onnxruntime'));
  const checked = rebatch(checkGraph(lowered), options.batch);
  const stored = new Set(checked.initializers.map((i) => i.name));
  const quantizeLinks = new Set(
    checked.nodes
      .filter((n) => n.op === 'QuantizeLinear' || (n.op === 'DequantizeLinear' && stored.has(n.inputs[0]!)))
      .flatMap((n) => n.outputs),
  );
  const model = onnx.ModelProto.create({
    irVersion,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'mobilenet-ts',
    producerVersion: options.producerVersion ?? '0.1.0',
    docString: options.docString ?? '',
    graph: {
      name: checked.name,
      node: checked.nodes.map((n) => ({
        name: n.name,
        opType: n.op,
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.keys(n.attrs)
          .sort()
          .map((k) => attrProto(k, n.attrs[k]!)),
      })),
      initializer: checked.initializers.map(tensorProto),
      input: checked.inputs.map(valueInfo),
      output: checked.outputs.map(valueInfo),
      // Quantized tensors (QuantizeLinear outputs) and dequantized weights take their type from their producer:
      // listing them cost an int8 v3-small 0.2% of its fp32 size.
      valueInfo: checked.values.filter((v) => !quantizeLinks.has(v.name)).map(valueInfo),
    },
    metadataProps: Object.keys(checked.metadata)
      .sort()
      .map((key) => ({ key, value: checked.metadata[key]! })),
  });
  return onnx.ModelProto.encode(model).finish();
}
