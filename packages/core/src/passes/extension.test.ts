// A pass is one function over the graph: written here, in this file alone, it composes with the built-in passes
// through `sequence`, exports through `toOnnx` and runs in onnxruntime like them. Nothing else changes to add one.
import { describe, expect, it } from 'vitest';
import type { Node } from '../ir/node.js';
import { float } from '../ir/node.js';
import { buildModel } from '../models/build.js';
import { fanInFill } from '../models/fill.js';
import { toOnnx } from '../onnx/write.js';
import { runOrt } from '../../test/testing.js';
import { foldBatchNorm } from './fold-batch-norm.js';
import { type Pass, sequence } from './pass.js';

/** HardSwish(x) = x * HardSigmoid(x; 1/6, 1/2): for a reader without HardSwish (it came in opset 14). */
const hardSwishAsMul: Pass = (graph) => ({
  ...graph,
  nodes: graph.nodes.flatMap((n): Node[] => {
    if (n.op !== 'HardSwish') return [n];
    const [x, y] = [n.inputs[0]!, n.outputs[0]!];
    const gate = { alpha: float(1 / 6), beta: float(0.5) };
    return [
      { name: `${n.name}.gate`, op: 'HardSigmoid', inputs: [x], outputs: [`${y}.gate`], attrs: gate },
      { name: n.name, op: 'Mul', inputs: [x, `${y}.gate`], outputs: [y], attrs: {} },
    ];
  }),
});

describe('a pass defined in one file', () => {
  const { graph } = buildModel({ arch: 'v3-small', resolution: 96, weights: fanInFill(7) });
  const input = { data: new Float32Array(3 * 96 * 96).map((_, i) => Math.sin(i)), dims: [1, 3, 96, 96] };

  it('composes with the built-in passes and exports: the same logits, without a HardSwish', async () => {
    const rewritten = sequence(foldBatchNorm, hardSwishAsMul)(graph);
    expect(graph.nodes.some((n) => n.op === 'HardSwish')).toBe(true);
    expect(rewritten.nodes.some((n) => n.op === 'HardSwish')).toBe(false);
    const [want, got] = await Promise.all([runOrt(toOnnx(graph), { input }), runOrt(toOnnx(rewritten), { input })]);
    const [a, b] = [want.logits!.data as Float32Array, got.logits!.data as Float32Array];
    const scale = Math.max(...a.map(Math.abs));
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!))) / scale).toBeLessThan(1e-4);
  });
});
