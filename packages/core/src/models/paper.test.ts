// The papers' and reference implementations' numbers, recomputed from our models. See docs/paper-numbers.md.
import { describe, expect, it } from 'vitest';
import { type Analysis, analyze } from '../analysis.js';
import { OPS } from '../ir/ops.js';
import { buildModel } from './build.js';
import type { ModelOptions } from './options.js';

const stats = (o: ModelOptions): Analysis => analyze(buildModel({ ...o, weights: null }).graph);
const M = (n: number) => n / 1e6;

describe('exact trainable parameters of the reference implementations', () => {
  it.each([
    ['torchvision mobilenet_v2()', { arch: 'v2', convention: 'torchvision' }, 3_504_872],
    ['torchvision mobilenet_v3_large()', { arch: 'v3-large', convention: 'torchvision' }, 5_483_032],
    ['torchvision mobilenet_v3_small()', { arch: 'v3-small', convention: 'torchvision' }, 2_542_856],
    ['Keras MobileNet() v1', { arch: 'v1', convention: 'keras' }, 4_231_976],
    [
      'Keras MobileNetV2(alpha=1.4) trainable = timm mobilenetv2_140',
      { arch: 'v2', convention: 'keras', width: 1.4 },
      6_108_776,
    ],
    [
      'Keras MobileNetV3Large(minimalistic=True) trainable',
      { arch: 'v3-large', convention: 'keras', minimalistic: true },
      3_924_288,
    ],
    [
      'Keras MobileNetV3Small(minimalistic=True) trainable',
      { arch: 'v3-small', convention: 'keras', minimalistic: true },
      2_044_736,
    ],
  ] as const)('%s: %i', (_, o, params) => {
    expect(stats(o as ModelOptions).params).toBe(params);
  });

  it('counts BN running statistics apart: Keras MobileNet() has 21,888 non-trainable', () => {
    expect(stats({ arch: 'v1', convention: 'keras' }).buffers).toBe(21_888);
  });
});

describe('MobileNet v1 (arXiv 1704.04861)', () => {
  // Keras-style int(c * alpha) channels and 1000 classes, as the paper's tables.
  it.each([
    [1.0, 569, 4.2],
    [0.75, 325, 2.6],
    [0.5, 149, 1.3],
    [0.25, 41, 0.5],
  ])('Table 6: width %f at 224: %i M mult-adds, %f M params', (width, macs, params) => {
    const a = stats({ arch: 'v1', convention: 'keras', width });
    expect(Math.abs(M(a.macs) - macs)).toBeLessThan(0.55);
    expect(Math.round(M(a.params) * 10) / 10).toBe(params);
  });

  it.each([
    [224, 569],
    [192, 418],
    [160, 290],
    [128, 186],
  ])('Table 7: resolution %i at width 1: %i M mult-adds', (resolution, macs) => {
    expect(Math.abs(M(stats({ arch: 'v1', convention: 'keras', resolution }).macs) - macs)).toBeLessThan(0.75);
  });

  it('Table 2: share of mult-adds and parameters per layer type', () => {
    const { graph } = buildModel({ arch: 'v1', convention: 'keras', weights: null });
    const a = analyze(graph);
    const kind = (name: string): string => {
      const node = graph.nodes.find((n) => n.name === name)!;
      const w = graph.initializers.find((i) => i.name === node.inputs[1])!;
      if (name === 'classifier.1') return 'fc';
      if (w.dims[1] !== 1 || w.dims[2] === 1) return w.dims[2] === 1 ? 'conv1x1' : 'conv3x3';
      return 'dw3x3';
    };
    const sums: Record<string, { macs: number; params: number }> = {};
    let macs = 0;
    let params = 0;
    for (const l of a.layers) {
      if (!OPS[l.op]!.macs) continue;
      const node = graph.nodes.find((n) => n.name === l.name)!;
      // The paper counts weights only: no biases, no BN.
      const weights = graph.initializers.find((i) => i.name === node.inputs[1])!.dims.reduce((x, y) => x * y, 1);
      const s = (sums[kind(l.name)] ??= { macs: 0, params: 0 });
      s.macs += l.macs;
      s.params += weights;
      macs += l.macs;
      params += weights;
    }
    const pct = (k: string, f: 'macs' | 'params') => (100 * sums[k]![f]) / (f === 'macs' ? macs : params);
    expect(pct('conv1x1', 'macs')).toBeCloseTo(94.86, 1);
    expect(pct('conv1x1', 'params')).toBeCloseTo(74.59, 1);
    expect(pct('dw3x3', 'macs')).toBeCloseTo(3.06, 1);
    expect(pct('dw3x3', 'params')).toBeCloseTo(1.06, 1);
    expect(pct('fc', 'macs')).toBeCloseTo(0.18, 1);
    expect(pct('fc', 'params')).toBeCloseTo(24.33, 1);
    // The paper prints 1.19% for the first, full 3x3 conv: a transposed-digit typo of 1.91%. The printed column
    // sums to 99.29%; with 1.91% it sums to 100.01%.
    expect(pct('conv3x3', 'macs')).toBeCloseTo(1.91, 1);
    expect(pct('conv3x3', 'params')).toBeCloseTo(0.02, 1);
  });

  it('a depthwise separable 3x3 layer costs 1/N + 1/9 of a full conv (Table 3: 14x14x512 -> 512)', () => {
    const a = stats({ arch: 'v1', convention: 'keras' });
    const dw = a.layers.find((l) => l.name === 'features.7.0.0')!;
    const pw = a.layers.find((l) => l.name === 'features.7.1.0')!;
    const full = 14 * 14 * 512 * 512 * 9;
    expect(M(full)).toBeCloseTo(462.4, 1);
    expect(M(dw.macs + pw.macs)).toBeCloseTo(52.3, 1);
    expect((dw.macs + pw.macs) / full).toBeCloseTo(1 / 512 + 1 / 9, 10);
  });
});

describe('MobileNetV2 (arXiv 1801.04381)', () => {
  it('1.0 / 224: 300M MACs, 3.4M params (3.47M in TF-slim, 1001 classes, BN not counted)', () => {
    const a = stats({ arch: 'v2' });
    expect(Math.round(M(a.macs))).toBe(301);
    expect(Math.abs(M(a.macs) - 300)).toBeLessThan(1);
  });

  it("1.4 / 224: about 582M MACs and 6.1M params (the paper prints 6.9M; the authors' checkpoint table says 6.06M)", () => {
    const a = stats({ arch: 'v2', convention: 'torchvision', width: 1.4 });
    expect(M(a.macs)).toBeCloseTo(582.2, 1);
    expect(Math.round(M(a.params) * 10) / 10).toBe(6.1);
  });

  it.each([
    [0.75, 224, 209],
    [0.5, 224, 97],
    [0.35, 224, 59],
    [1.0, 192, 221],
    [1.0, 160, 154],
    [1.0, 128, 99],
    [1.0, 96, 56],
  ])('TF-slim checkpoint table: width %f at %i: %i M MACs', (width, resolution, macs) => {
    expect(Math.abs(M(stats({ arch: 'v2', width, resolution }).macs) - macs)).toBeLessThan(0.6);
  });
});

describe('MobileNetV3 (arXiv 1905.02244)', () => {
  it('Large 1.0: about 217M MACs (paper rounds to 219M), 5.4M params', () => {
    const a = stats({ arch: 'v3-large' });
    expect(Math.round(M(a.macs))).toBe(217);
    expect(Math.round(M(a.params) * 10) / 10).toBe(5.5);
  });

  it('Small 1.0: about 56M MACs and 2.5M params (1024 head)', () => {
    const a = stats({ arch: 'v3-small' });
    expect(Math.round(M(a.macs))).toBe(57);
    expect(Math.abs(M(a.macs) - 56)).toBeLessThan(0.6);
    expect(Math.round(M(a.params) * 10) / 10).toBe(2.5);
  });

  it("Large 0.75: 155M / 4.0M and Small 0.75: 44M / 2.0M with the authors' head rule (head not narrowed)", () => {
    const large = stats({ arch: 'v3-large', width: 0.75 });
    expect(Math.abs(M(large.macs) - 155)).toBeLessThan(0.5);
    expect(Math.round(M(large.params) * 10) / 10).toBe(4.0);
    const small = stats({ arch: 'v3-small', width: 0.75 });
    expect(Math.abs(M(small.macs) - 44)).toBeLessThan(0.65);
    expect(Math.round(M(small.params) * 10) / 10).toBe(2.0);
  });

  it('torchvision narrows the head with the width: Large 0.75 has 3,377,576 params', () => {
    expect(stats({ arch: 'v3-large', width: 0.75, convention: 'torchvision' }).params).toBe(3_377_576);
  });

  it('minimalistic Large: about 209M MACs and 3.9M params', () => {
    const a = stats({ arch: 'v3-large', minimalistic: true });
    expect(M(a.macs)).toBeCloseTo(209.1, 1);
    expect(Math.round(M(a.params) * 10) / 10).toBe(3.9);
  });

  it('squeeze channels are make_divisible(exp / 4, 8): 72 -> 24, 16 -> 8, 960 -> 240', () => {
    const { graph } = buildModel({ arch: 'v3-large', convention: 'torchvision', weights: null });
    const dims = (n: string) => graph.initializers.find((i) => i.name === n)!.dims;
    expect(dims('features.4.block.2.fc1.weight')).toEqual([24, 72, 1, 1]);
    expect(dims('features.15.block.2.fc1.weight')).toEqual([240, 960, 1, 1]);
    const small = buildModel({ arch: 'v3-small', convention: 'torchvision', weights: null }).graph;
    expect(small.initializers.find((i) => i.name === 'features.1.block.1.fc1.weight')!.dims).toEqual([8, 16, 1, 1]);
  });
});
