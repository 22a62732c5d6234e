import { describe, expect, it } from 'vitest';
import { dumpGraph } from '../analysis.js';
import { toOnnx } from '../onnx/write.js';
import { onnxCheckStream, pythonOnnxMissing, runOrt } from '../../test/testing.js';
import { buildModel } from './build.js';
import { V1 } from './v1.js';
import { V2 } from './v2.js';
import { V3 } from './v3.js';
import type { ModelOptions } from './options.js';

// v1-v3 here; v4 has its own matrix and goldens in v4.test.ts.
const ARCHS = [...V1.archs, ...V2.archs, ...V3.archs];

const WIDTHS = [0.35, 0.5, 0.75, 1.0, 1.4];
const RESOLUTIONS = [128, 160, 192, 224];
const MATRIX: ModelOptions[] = [
  ...ARCHS.flatMap((arch) => WIDTHS.flatMap((width) => RESOLUTIONS.map((resolution) => ({ arch, width, resolution })))),
  ...(['v3-large', 'v3-small'] as const).flatMap((arch) =>
    WIDTHS.flatMap((width) => RESOLUTIONS.map((resolution) => ({ arch, width, resolution, minimalistic: true }))),
  ),
];
const label = (o: ModelOptions) => `${o.arch}${o.minimalistic ? '-min' : ''}-${o.width}-${o.resolution}`;
// Constant weights keep 120 exports fast; the shapes and ops are what this test is about.
const zeros = ({ dims, kind }: { dims: readonly number[]; kind: string }) =>
  new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(kind === 'bn-var' || kind === 'bn-weight' ? 1 : 0.01);

describe('every architecture x width x resolution exports, checks and runs', () => {
  const missing = pythonOnnxMissing();

  it(`${MATRIX.length} models run in onnxruntime-node with output [batch, classes]`, async () => {
    for (const o of MATRIX) {
      const { graph, config } = buildModel({ ...o, weights: zeros, batch: 2 });
      const r = o.resolution!;
      const out = await runOrt(toOnnx(graph), {
        input: { data: new Float32Array(2 * 3 * r * r).fill(0.5), dims: [2, 3, r, r] },
      });
      expect(out.logits!.dims, label(o)).toEqual([2, config.classes]);
      expect(Number.isFinite(out.logits!.data[0] as number), label(o)).toBe(true);
    }
  });

  it.skipIf(missing !== null)(
    `${MATRIX.length} models pass onnx.checker full_check ${missing ? `(skipped: ${missing})` : ''}`,
    async () => {
      // One python process checks them all, each model streamed to it as soon as it is built (1.5 GB in all).
      const models = (function* () {
        for (const o of MATRIX)
          yield [label(o), toOnnx(buildModel({ ...o, weights: zeros }).graph)] as [string, Uint8Array];
      })();
      const results = await onnxCheckStream(models);
      expect(results.map((r) => r.file)).toEqual(MATRIX.map(label));
      expect(results.filter((r) => !r.ok)).toEqual([]);
    },
  );
});

describe('determinism and golden dumps', () => {
  it('the same options and seed give byte-identical files; another seed does not', () => {
    const a = toOnnx(buildModel({ arch: 'v3-small', weights: 7 }).graph);
    const b = toOnnx(buildModel({ arch: 'v3-small', weights: 7 }).graph);
    const c = toOnnx(buildModel({ arch: 'v3-small', weights: 8 }).graph);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(c))).not.toBe(0);
  });

  for (const arch of ARCHS) {
    it(`${arch}: op list and shapes match the golden dump`, async () => {
      await expect(dumpGraph(buildModel({ arch, weights: null }).graph)).toMatchFileSnapshot(
        `../../test/fixtures/golden/${arch}.txt`,
      );
    });
  }

  it('features-only and embedding outputs', () => {
    const top = buildModel({ arch: 'v2', embedding: true, convention: 'torchvision', weights: null }).graph;
    expect(top.outputs.map((o) => [o.name, o.type.shape])).toEqual([
      ['logits', [1, 1000]],
      ['embedding', [1, 1280]],
    ]);
    const headless = buildModel({ arch: 'v3-small', includeTop: false, batch: 'dynamic', weights: null }).graph;
    expect(headless.outputs.map((o) => [o.name, o.type.shape])).toEqual([
      ['features', ['batch', 576, 7, 7]],
      ['embedding', ['batch', 576]],
    ]);
  });

  it('v3 dilated keeps 14x14 in the last stage (output stride 16) and runs; reduced tail halves it', async () => {
    const { graph } = buildModel({
      arch: 'v3-large',
      dilated: true,
      reducedTail: true,
      includeTop: false,
      convention: 'torchvision',
      weights: zeros,
    });
    expect(graph.outputs[0]!.type.shape).toEqual([1, 480, 14, 14]);
    const dw = graph.nodes.find((n) => n.name === 'features.13.block.1.0')!;
    expect([dw.attrs.strides, dw.attrs.dilations, dw.attrs.pads]).toEqual([
      { kind: 'ints', value: [1, 1] },
      { kind: 'ints', value: [2, 2] },
      { kind: 'ints', value: [4, 4, 4, 4] },
    ]);
    const out = await runOrt(toOnnx(graph), {
      input: { data: new Float32Array(3 * 224 * 224).fill(0.1), dims: [1, 3, 224, 224] },
    });
    expect(out.features!.dims).toEqual([1, 480, 14, 14]);
    expect(() => buildModel({ arch: 'v2', dilated: true, weights: null })).toThrow(
      "option dilated: expected to be used with v3-large or v3-small only, received 'true with v2'",
    );
  });

  it('v1 depth multiplier widens the depthwise convs', () => {
    const g = buildModel({ arch: 'v1', depthMultiplier: 2, weights: null }).graph;
    expect(g.initializers.find((i) => i.name === 'features.1.0.0.weight')!.dims).toEqual([64, 1, 3, 3]);
    expect(g.initializers.find((i) => i.name === 'features.1.1.0.weight')!.dims).toEqual([64, 64, 1, 1]);
  });

  it('TF SAME padding pads stride-2 convs one more after than before (reference, keras)', () => {
    const ref = buildModel({ arch: 'v2', weights: null }).graph.nodes.find((n) => n.name === 'features.0.0')!;
    const tv = buildModel({ arch: 'v2', convention: 'torchvision', weights: null }).graph.nodes.find(
      (n) => n.name === 'features.0.0',
    )!;
    expect(ref.attrs.pads).toEqual({ kind: 'ints', value: [0, 0, 1, 1] });
    expect(tv.attrs.pads).toEqual({ kind: 'ints', value: [1, 1, 1, 1] });
  });
});

describe('options are checked at the edge', () => {
  it.each([
    [{ arch: 'v2', width: 0 }, 'option width: expected a number greater than 0 and at most 4, received 0'],
    [{ arch: 'v2', width: Number.NaN }, 'option width: expected a number greater than 0 and at most 4, received NaN'],
    [{ arch: 'v2', width: 5 }, 'option width: expected a number greater than 0 and at most 4, received 5'],
    [{ arch: 'v2', resolution: 100 }, 'option resolution: expected a multiple of 32, at least 32, received 100'],
    [{ arch: 'v2', classes: 0 }, 'option classes: expected an integer >= 1, received 0'],
    [
      { arch: 'v4' },
      "option arch: expected one of v1, v2, v3-large, v3-small, v4-conv-small, v4-conv-medium, v4-conv-large, v4-hybrid-medium, v4-hybrid-large, ssdlite320-v3-large, lraspp-v3-large, deeplabv3-v3-large, received 'v4'",
    ],
    [
      { arch: 'v2', minimalistic: true },
      "option minimalistic: expected to be used with v3-large or v3-small only, received 'true with v2'",
    ],
    [
      { arch: 'v3-small', convention: 'tf' },
      "option convention: expected one of reference, torchvision, keras, timm, timm-tf, received 'tf'",
    ],
    [{ arch: 'v2', batch: 0 }, "option batch: expected a positive integer or 'dynamic', received 0"],
  ])('%j', (o, message) => {
    expect(() => buildModel({ ...(o as ModelOptions), weights: null })).toThrow(message);
  });
});
