import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './builder.js';
import { GraphError, ShapeError } from './errors.js';
import { checkGraph } from './graph.js';
import { float, int } from './node.js';

const builder = () => {
  const b = new GraphBuilder('t');
  return { b, x: b.input('input', [1, 8, 16, 16]) };
};

describe('shape inference at build time', () => {
  it('types every value as layers are added', () => {
    const { b, x } = builder();
    const y = b.conv(x, 'features.0.0', { out: 16, kernel: 3, stride: 2 });
    expect(y.type.shape).toEqual([1, 16, 8, 8]);
    const dw = b.conv(y, 'dw', { out: 16, kernel: 5, stride: 2, group: 16 });
    expect(dw.type.shape).toEqual([1, 16, 4, 4]);
    expect(b.flatten(b.globalAveragePool(dw, 'pool'), 'flat').type.shape).toEqual([1, 16]);
  });

  it('keeps a symbolic batch dimension', () => {
    const b = new GraphBuilder('t');
    const x = b.input('input', ['batch', 3, 32, 32]);
    expect(b.linear(b.flatten(b.globalAveragePool(x, 'p'), 'f'), 'fc', 10).type.shape).toEqual(['batch', 10]);
  });

  it('names the node and both shapes on a channel mismatch', () => {
    const { b, x } = builder();
    const w = b.constant({ name: 'w', dtype: 'float32', dims: [4, 3, 3, 3], data: new Float32Array(108) });
    expect(() => b.node('Conv', 'features.3.conv.0.0', [x.name, w])).toThrow(ShapeError);
    expect(() => b.node('Conv', 'features.3.conv.0.0', [x.name, w])).toThrow(
      "node 'features.3.conv.0.0' (Conv): expected input channels 3 (weight [4, 3, 3, 3] x group 1), received input [1, 8, 16, 16] with 8 channels",
    );
  });

  it('rejects a kernel larger than its input', () => {
    const b = new GraphBuilder('t');
    const x = b.input('input', [1, 3, 2, 2]);
    expect(() => b.conv(x, 'big', { out: 4, kernel: 5, pads: [0, 0, 0, 0] })).toThrow(
      /node 'big' \(Conv\): expected an input at least as large as the kernel \(5/,
    );
  });

  it('rejects a group count that does not divide the channels', () => {
    const { b, x } = builder();
    expect(() => b.conv(x, 'g', { out: 6, kernel: 3, group: 3 })).toThrow(
      /node 'g' \(Conv\): expected group 3 dividing input channels 8/,
    );
  });

  it('rejects shapes that do not broadcast, naming both', () => {
    const { b, x } = builder();
    const y = b.conv(x, 'c', { out: 4, kernel: 1 });
    expect(() => b.add(x, y, 'features.2.add')).toThrow(
      "node 'features.2.add' (Add): expected broadcastable shapes, received [1, 8, 16, 16] and [1, 4, 16, 16]",
    );
  });
});

describe('graph errors name the field', () => {
  it('unknown op', () => {
    const { b, x } = builder();
    expect(() => b.node('Swish', 'act', [x.name])).toThrow(
      /node 'act' \(Swish\): expected one of .*Conv.*, received op 'Swish'/,
    );
  });

  it('wrong attribute kind: INT where FLOAT is declared', () => {
    const { b, x } = builder();
    expect(() => b.node('HardSigmoid', 'hs', [x.name], { alpha: int(1), beta: float(0.5) })).toThrow(
      "node 'hs' (HardSigmoid) attribute 'alpha': expected kind FLOAT, received kind INT",
    );
  });

  it('HardSigmoid without alpha (ONNX would silently use 0.2)', () => {
    const { b, x } = builder();
    expect(() => b.node('HardSigmoid', 'hs', [x.name], { beta: float(0.5) })).toThrow(/attribute 'alpha'/);
  });

  it('duplicate value and node names', () => {
    const { b, x } = builder();
    b.relu(x, 'r');
    expect(() => b.relu(x, 'r')).toThrow(GraphError);
    expect(() => b.input('input', [1])).toThrow(
      "graph input 'input': expected a value name not used before, received 'input' (already defined)",
    );
  });

  it('dangling input', () => {
    const { b } = builder();
    expect(() => b.node('Relu', 'r', ['nowhere'])).toThrow(
      "node 'r' (Relu) input 0: expected a graph input, initializer or earlier node output, received 'nowhere' (not defined)",
    );
  });

  it('NaN or Inf in a constant', () => {
    const { b } = builder();
    const data = new Float32Array([1, 2, Number.NaN]);
    expect(() => b.constant({ name: 'k', dtype: 'float32', dims: [3], data })).toThrow(
      "initializer 'k': expected finite values, received NaN at flat index 2",
    );
    expect(() => b.constant({ name: 'k2', dtype: 'float32', dims: [1], data: Float32Array.of(Infinity) })).toThrow(
      /Infinity at flat index 0/,
    );
  });

  it('data that does not fill the dims', () => {
    const { b } = builder();
    expect(() => b.constant({ name: 'k', dtype: 'float32', dims: [2, 2], data: new Float32Array(3) })).toThrow(
      "initializer 'k': expected 4 elements for dims [2, 2], received 3",
    );
  });

  it('checkGraph catches a declared output type that the nodes do not produce', () => {
    const { b, x } = builder();
    b.output(b.relu(x, 'r'));
    const g = b.build();
    expect(() => checkGraph({ ...g, outputs: [{ name: 'r', type: { dtype: 'float32', shape: [1, 8] } }] })).toThrow(
      /graph output 'r': expected float32 \[1, 8, 16, 16\] \(inferred\)/,
    );
  });
});
