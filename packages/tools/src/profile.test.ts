import { analyze, buildModel, fanInFill, toOnnx } from '@mobilenet/core';
import { describe, expect, it } from 'vitest';
import { formatProfile, shareChart, stagesChart } from './profile-chart.js';
import { blockOf, profileModel } from './profile.js';

describe('profile', () => {
  it('names blocks the way torchvision and timm lay models out, dropping onnxruntime suffixes', () => {
    expect(blockOf('features.3.conv.1')).toBe('features.3');
    expect(blockOf('features.0.1_nchwc_kernel_time')).toBe('features.0');
    expect(blockOf('features.12.0')).toBe('features.12');
    expect(blockOf('blocks.2.0.conv_pw')).toBe('blocks.2.0');
    expect(blockOf('classifier.3')).toBe('classifier.3');
    expect(blockOf('conv_stem')).toBe('conv_stem');
  });

  it('shares of time and of MACs per op kind and block, MACs as our analysis counts them', async () => {
    const { graph } = buildModel({ arch: 'v2', convention: 'torchvision', resolution: 64, weights: fanInFill(0) });
    const p = await profileModel(toOnnx(graph), graph, { runs: 3, warmup: 1, options: { intraOpNumThreads: 1 } });
    const sum = (rows: readonly { timeShare: number; macShare: number }[], k: 'timeShare' | 'macShare') =>
      rows.reduce((a, r) => a + r[k], 0);
    for (const rows of [p.ops, p.layers]) {
      expect(sum(rows, 'timeShare')).toBeCloseTo(1, 6);
      expect(sum(rows, 'macShare')).toBeCloseTo(1, 6);
    }
    const a = analyze(graph);
    const macs = (name: string) => p.ops.find((r) => r.name === name)?.macs ?? 0;
    // v2's convs: the 3x3 stem, 17 depthwise 3x3, the 1x1s; and the classifier.
    const conv = (pred: (n: (typeof graph.nodes)[number]) => boolean) =>
      graph.nodes.reduce((s, n, i) => s + (n.op === 'Conv' && pred(n) ? a.layers[i]!.macs : 0), 0);
    expect(macs('Conv DW 3x3')).toBe(conv((n) => Number(n.attrs.group?.value ?? 1) > 1));
    expect(macs('Conv 1x1') + macs('Conv 3x3')).toBe(conv((n) => Number(n.attrs.group?.value ?? 1) === 1));
    expect(macs('FC')).toBe(1280 * 1000);
    expect(p.ops.find((r) => r.name === 'Conv 1x1')!.timeShare).toBeGreaterThan(0);
    expect(p.layers.map((r) => r.name).slice(0, 3)).toEqual(['features.0', 'features.1', 'features.2']);
    expect(p.kernelMs).toBeGreaterThan(0);
    const table = formatProfile(p.ops, 'operation');
    expect(table).toMatch(/^operation +ms\/run +time +MACs +time\/MACs/);
    expect(table).toContain('Conv DW 3x3');
    const svg = shareChart(p.layers, 'v2 <64>');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('v2 &lt;64&gt;');
    expect(svg.match(/<rect /g)!.length).toBe(2 + 2 * p.layers.length);
    expect(stagesChart({ decode: 3, run: 1 }, 'stages')).toContain('decode: 3.00 ms per image (75.0%)');
  });
});
