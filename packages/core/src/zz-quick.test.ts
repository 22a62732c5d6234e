import { it } from 'vitest';
import { buildModel } from './models/build.js';
import { analyze } from './analysis.js';
const prod = (s: readonly (number|string)[]) => s.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
it('x', () => {
  for (const [arch, width] of [['v4-conv-small',1],['v4-conv-medium',1],['v4-conv-large',1],['v4-hybrid-medium',1],['v4-hybrid-large',1]] as const) {
    const m = buildModel({ arch, width, weights: null });
    const a = analyze(m.graph);
    let bn = 0, mm = 0, gap = 0;
    const types = new Map([...m.graph.values, ...m.graph.outputs, ...m.graph.inputs].map((v) => [v.name, v.type.shape]));
    for (const l of a.layers) { if (l.op === 'BatchNormalization') bn += prod(l.outputShape); if (l.op === 'MatMul') mm += l.macs; }
    for (const n of m.graph.nodes) if (n.op === 'GlobalAveragePool') gap += prod(types.get(n.inputs[0]!)!);
    const g = (x: number) => (x / 1e9).toFixed(4);
    console.log(arch, 'all', g(a.macs), 'mm', g(mm), 'bn', g(bn), 'gap', g(gap), 'conv+lin+2bn+gap', g(a.macs - mm + 2 * bn + gap), '+mm', g(a.macs + 2 * bn + gap));
  }
});
