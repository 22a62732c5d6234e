// MobileNetV4 against timm 1.0.29 (the oracle): parameter counts, MACs, state_dict keys and shapes, preprocessing,
// and timm's own logits through our ONNX export (committed for formula weights; also run now when timm imports).
// Fixtures: tools/fixtures/timm_v4.py.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../analysis.js';
import { fanInFill } from '../models/fill.js';
import { OPS } from '../ir/ops.js';
import type { Graph } from '../ir/graph.js';
import { GraphBuilder } from '../ir/builder.js';
import { ints, str } from '../ir/node.js';
import { fromOnnx } from '../onnx/read.js';
import { toOnnx } from '../onnx/write.js';
import { onnxCheck, pythonOnnxMissing, runFixtureScript, runOrt } from '../../test/testing.js';
import {
  type FormulaLogits,
  formulaCheckpoint,
  formulaInput,
  formulaTensor,
  relError,
} from '../../test/testing-formula.js';
import { type Checkpoint, readCheckpoint, readSafetensors, writeSafetensors } from '../weights/index.js';
import { buildWithWeights } from '../weights/load.js';
import { buildModel } from './build.js';
import type { ModelOptions } from './options.js';
import { V4_ARCHS, type V4Arch } from './v4.js';
import { TIMM_V4_CFGS } from './v4-convention.js';

const TIMM = JSON.parse(
  readFileSync(new URL('../../test/fixtures/timm-v4/timm-v4-keys.json', import.meta.url), 'utf8'),
) as {
  timm: string;
  models: Record<
    string,
    {
      arch: V4Arch;
      width: number;
      keys: Record<string, number[]>;
      params: number;
      pretrained_cfg: { mean: number[]; std: number[]; crop_pct: number; interpolation: string; input_size: number[] };
    }
  >;
};

const graphOf = (o: ModelOptions): Graph => buildModel({ ...o, weights: null }).graph;
const dims = (s: readonly (number | string)[]) => s.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);

/** Parameters and BN statistics by name: the initializers a module owns (not shape constants or scalars). */
function stateDict(g: Graph): Record<string, number[]> {
  const owned = new Set(
    g.nodes.flatMap((n) => n.inputs.filter((_, i) => OPS[n.op]!.roles?.[i] && OPS[n.op]!.roles![i] !== 'const')),
  );
  return Object.fromEntries(g.initializers.filter((i) => owned.has(i.name)).map((i) => [i.name, [...i.dims]]));
}

describe('MobileNetV4 against timm 1.0.29', () => {
  it.each([
    ['v4-conv-small', 3_774_024],
    ['v4-conv-medium', 9_715_512],
    ['v4-conv-large', 32_590_864],
    ['v4-hybrid-medium', 11_074_648],
    ['v4-hybrid-large', 37_764_624],
  ] as const)("%s: exactly timm's %i parameters (1000 classes)", (arch, params) => {
    expect(analyze(graphOf({ arch })).params).toBe(params);
  });

  // Ours: convolutions, linear layers and the attention matmuls (QK^T and AV). timm's figures (results/benchmark-*.csv,
  // fvcore) also count each eval BatchNorm as 2 per output element and the global pool as 1 per input element.
  it.each([
    ['v4-conv-small', 224, 0.186, 0.19],
    ['v4-conv-medium', 256, 1.08, 1.1],
    ['v4-conv-large', 384, 6.376, 6.43],
    ['v4-hybrid-medium', 256, 1.271, 1.29],
    ['v4-hybrid-large', 384, 7.712, 7.77],
  ] as const)("%s at %i: %f GMACs; with fvcore's BN and pooling terms timm's %f", (arch, resolution, ours, timm) => {
    const g = graphOf({ arch });
    const a = analyze(g);
    expect(g.inputs[0]!.type.shape).toEqual([1, 3, resolution, resolution]);
    expect(Math.round(a.macs / 1e6) / 1e3).toBeCloseTo(ours, 3);
    const shapes = new Map([...g.inputs, ...g.values, ...g.outputs].map((v) => [v.name, v.type.shape]));
    const bn = a.layers.filter((l) => l.op === 'BatchNormalization').reduce((s, l) => s + dims(l.outputShape), 0);
    const pool = g.nodes
      .filter((n) => n.op === 'GlobalAveragePool')
      .reduce((s, n) => s + dims(shapes.get(n.inputs[0]!)!), 0);
    expect(Math.round((a.macs + 2 * bn + pool) / 1e7) / 100).toBe(timm);
  });

  // Why the paper's table sits below timm (docs/paper-numbers.md): its MACs are in units of 2^30 and its parameters,
  // BN not counted, in units of 2^20. Conv-S's 3.8M is the exception: it is the plain decimal count (3.77M).
  it.each([
    ['v4-conv-small', 0.2, null],
    ['v4-conv-medium', 1.0, 9.2],
    ['v4-conv-large', 5.9, 30.9],
    ['v4-hybrid-medium', 1.2, 10.5],
    ['v4-hybrid-large', 7.2, 35.9],
  ] as const)("%s: the paper's %f G MACs and %s M parameters, in binary units", (arch, macs, params) => {
    const g = graphOf({ arch });
    const a = analyze(g);
    expect(Math.round((a.macs / 2 ** 30) * 10) / 10).toBe(macs);
    const bnParams = a.layers.filter((l) => l.op === 'BatchNormalization').reduce((s, l) => s + l.params, 0);
    if (params !== null) expect(Math.round(((a.params - bnParams) / 2 ** 20) * 10) / 10).toBe(params);
    else expect(Math.round(a.params / 1e5) / 10).toBe(3.8);
  });

  it('attention MACs are the QK^T and AV matmuls: Hybrid-M 41.9M at 256', () => {
    const a = analyze(graphOf({ arch: 'v4-hybrid-medium' }));
    const mm = a.layers.filter((l) => l.op === 'MatMul');
    expect(mm).toHaveLength(16);
    // Stage 3 (16x16, K/V at 8x8): 4 heads x 256 queries x 64 keys x 64 dims, twice per block.
    expect(mm[0]!.macs).toBe(4 * 256 * 64 * 64);
    expect(Math.round(mm.reduce((s, l) => s + l.macs, 0) / 1e5) / 10).toBe(41.9);
  });

  for (const [name, t] of Object.entries(TIMM.models)) {
    it(`${name}: same state_dict keys and shapes as timm, same parameter count`, () => {
      const g = graphOf({ arch: t.arch, width: t.width });
      const theirs = Object.fromEntries(Object.entries(t.keys).filter(([k]) => !k.endsWith('num_batches_tracked')));
      expect(stateDict(g)).toEqual(theirs);
      expect(analyze(g).params).toBe(t.params);
    });

    it(`${name}: preprocessing is timm's pretrained_cfg`, () => {
      const { graph, config } = buildModel({ arch: t.arch, width: t.width, weights: null });
      const pre = JSON.parse(graph.metadata['mobilenet.preprocessing']!);
      const c = t.pretrained_cfg;
      expect([pre.mean, pre.std, pre.interpolation]).toEqual([c.mean, c.std, c.interpolation]);
      expect(pre.resize).toBe(Math.floor(config.resolution / c.crop_pct));
      expect(TIMM_V4_CFGS[name]!.input).toBe(c.input_size[1]);
    });
  }

  it("the default resolution is the paper's per model; the width variants keep it", () => {
    const res = V4_ARCHS.map((arch) => buildModel({ arch, weights: null }).config.resolution);
    expect(res).toEqual([224, 256, 384, 256, 384]);
    expect(buildModel({ arch: 'v4-hybrid-large', width: 0.75, weights: null }).config.resolution).toBe(384);
  });
});

describe('v4 options and conventions', () => {
  it.each([
    [
      { arch: 'v4-conv-small', minimalistic: true },
      "option minimalistic: expected to be used with v3-large or v3-small only, received 'true with v4-conv-small'",
    ],
    [
      { arch: 'v4-hybrid-medium', reducedTail: true },
      "option reduced-tail: expected to be used with v3-large or v3-small only, received 'true with v4-hybrid-medium'",
    ],
    [
      { arch: 'v4-conv-large', depthMultiplier: 2 },
      "option depth-multiplier: expected to be used with v1 only, received '2 with v4-conv-large'",
    ],
    [
      { arch: 'v4-conv-small', convention: 'keras' },
      "option convention: expected one of timm, reference for v4-conv-small, received 'keras'",
    ],
  ])('%j', (o, message) => {
    expect(() => buildModel({ ...(o as ModelOptions), weights: null })).toThrow(message);
  });

  it('timm is the default; reference (TF) differs only as data: BN eps, SAME padding, 1001 classes, tanh GELU, stem and head widths', () => {
    const timm = buildModel({ arch: 'v4-hybrid-large', weights: null });
    const ref = buildModel({ arch: 'v4-hybrid-large', convention: 'reference', width: 0.5, weights: null });
    expect([timm.config.convention, timm.config.bnEps, timm.config.classes]).toEqual(['timm', 1e-5, 1000]);
    expect([ref.config.bnEps, ref.config.classes]).toEqual([1e-3, 1001]);
    const node = (g: Graph, name: string) => g.nodes.find((n) => n.name === name)!;
    expect(node(timm.graph, 'conv_stem').attrs.pads).toEqual({ kind: 'ints', value: [1, 1, 1, 1] });
    expect(node(ref.graph, 'conv_stem').attrs.pads).toEqual({ kind: 'ints', value: [0, 0, 1, 1] });
    expect(node(ref.graph, 'blocks.2.7.attn.key.down_conv').attrs.pads).toEqual({ kind: 'ints', value: [0, 0, 1, 1] });
    expect(node(timm.graph, 'bn1.act').attrs.approximate).toEqual({ kind: 'string', value: 'none' });
    expect(node(ref.graph, 'bn1.act').attrs.approximate).toEqual({ kind: 'string', value: 'tanh' });
    const w = (g: Graph, name: string) => g.initializers.find((i) => i.name === name)!.dims;
    // Width 0.5: TF scales the stem (24 -> 16), timm keeps it (fix_stem); both keep the 1280 head.
    expect(w(ref.graph, 'conv_stem.weight')).toEqual([16, 3, 3, 3]);
    expect(w(buildModel({ arch: 'v4-hybrid-large', width: 0.5, weights: null }).graph, 'conv_stem.weight')).toEqual([
      24, 3, 3, 3,
    ]);
    expect(w(ref.graph, 'conv_head.weight')).toEqual([1280, 480, 1, 1]);
  });

  it('a dynamic batch stays dynamic through the attention reshapes, and runs at batch 2', async () => {
    const { graph } = buildModel({ arch: 'v4-hybrid-medium', resolution: 64, batch: 'dynamic', weights: fanInFill(1) });
    expect(graph.outputs[0]!.type.shape).toEqual(['batch', 1000]);
    const x = Float32Array.from({ length: 2 * 3 * 64 * 64 }, (_, i) => Math.sin(i));
    const out = await runOrt(toOnnx(graph), { input: { data: x, dims: [2, 3, 64, 64] } });
    const y = out.logits!.data as Float32Array;
    const one = (await runOrt(toOnnx(graph), { input: { data: x.slice(0, 3 * 64 * 64), dims: [1, 3, 64, 64] } }))
      .logits!.data as Float32Array;
    expect(Math.max(...one.map((v, i) => Math.abs(v - y[i]!)))).toBeLessThan(1e-4);
  });

  it('the reference convention exports and runs (SAME padding on the K/V downsampling, tanh GELU at opset 17)', async () => {
    const { graph } = buildModel({
      arch: 'v4-hybrid-large',
      convention: 'reference',
      width: 0.5,
      resolution: 64,
      weights: fanInFill(2),
    });
    const out = await runOrt(toOnnx(graph), {
      input: { data: new Float32Array(3 * 64 * 64).fill(0.3), dims: [1, 3, 64, 64] },
    });
    expect(out.logits!.dims).toEqual([1, 1001]);
    expect((out.logits!.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('features-only and embedding outputs: the last map (960 channels) and its pooled vector', () => {
    const top = buildModel({ arch: 'v4-conv-small', embedding: true, weights: null }).graph;
    expect(top.outputs.map((o) => [o.name, o.type.shape])).toEqual([
      ['logits', [1, 1000]],
      ['embedding', [1, 960]],
    ]);
    const headless = buildModel({ arch: 'v4-hybrid-medium', includeTop: false, batch: 'dynamic', weights: null }).graph;
    expect(headless.outputs.map((o) => [o.name, o.type.shape])).toEqual([
      ['features', ['batch', 960, 8, 8]],
      ['embedding', ['batch', 960]],
    ]);
  });

  it('a v3 checkpoint given to a v4 arch names the first missing and unexpected keys', () => {
    const file = new URL('../../test/fixtures/timm/mobilenetv3_small_050.safetensors', import.meta.url).pathname;
    const { tensors } = readSafetensors(readFileSync(file), 'v3.safetensors');
    expect(() => buildWithWeights({ arch: 'v4-conv-small' }, tensors, { source: 'v3.safetensors' })).toThrow(
      /^v3\.safetensors: expected the 232 timm keys of v4-conv-small width 1, received 208 missing \(blocks\.0\.0\.conv\.weight, .*\); 186 unexpected \(blocks\.0\.0\.bn2\.bias, /,
    );
  });
});

describe('the IR ops attention and GELU need', () => {
  const gelu = (approximate: 'none' | 'tanh') => {
    const b = new GraphBuilder('gelu');
    b.output(b.node('Gelu', 'y', [b.input('x', [1, 5]).name], { approximate: str(approximate) }));
    return b.build();
  };
  // Reference values from the TF/Keras gelu docstring (x = -3, -1, 0, 1, 3), an implementation we did not write.
  it.each([
    ['none', [-0.00404951, -0.15865529, 0, 0.8413447, 2.9959507]],
    ['tanh', [-0.00363752, -0.15880796, 0, 0.841192, 2.9963627]],
  ] as const)(
    'Gelu(approximate=%s): ONNX Gelu at opset 20, Erf/Tanh arithmetic below it, same values',
    async (approximate, want) => {
      const x = { x: { data: Float32Array.of(-3, -1, 0, 1, 3), dims: [1, 5] } };
      for (const opset of [17, 20]) {
        const bytes = toOnnx(gelu(approximate), { opset });
        const ops = fromOnnx(bytes, 'gelu.onnx').graph.nodes.map((n) => n.op);
        expect(ops.includes('Gelu'), `opset ${opset}`).toBe(opset === 20);
        const y = (await runOrt(bytes, x)).y!.data as Float32Array;
        want.forEach((v, i) => {
          expect(y[i], `opset ${opset} x[${i}]`).toBeCloseTo(v, 6);
        });
      }
    },
  );

  it('MatMul, Transpose and Reshape type their outputs, and name the node on a mismatch', () => {
    const b = new GraphBuilder('mm');
    const q = b.input('q', ['batch', 4, 16, 8]);
    const k = b.input('k', ['batch', 1, 8, 4]);
    expect(b.node('MatMul', 'qk', [q.name, k.name]).type.shape).toEqual(['batch', 4, 16, 4]);
    expect(b.node('Transpose', 't', [q.name], { perm: ints([0, 1, 3, 2]) }).type.shape).toEqual(['batch', 4, 8, 16]);
    expect(() => b.node('MatMul', 'bad', [q.name, q.name])).toThrow(
      "node 'bad' (MatMul): expected the inner dimensions of A and B to agree, received A [batch, 4, 16, 8] and B [batch, 4, 16, 8]",
    );
    expect(() => b.node('Transpose', 'bad2', [q.name], { perm: ints([0, 1, 1, 2]) })).toThrow(
      "node 'bad2' (Transpose): expected perm to be a permutation of 0..3 (input [batch, 4, 16, 8]), received [0, 1, 1, 2]",
    );
  });
});

// timm's logits for formula weights (testing-formula.ts; its Python twin tools/fixtures/formula_weights.py), made by
// `tools/fixtures/timm_v4.py logits` with timm 1.0.29 and committed: CI has no timm, and needs none to check against it.
const LOGITS = new URL('../../test/fixtures/timm-v4/logits/', import.meta.url).pathname;
type V4Logits = FormulaLogits & { arch: V4Arch; width: number };
const committed = (name: string): V4Logits => JSON.parse(readFileSync(join(LOGITS, `${name}.json`), 'utf8'));
const NAMES = Object.keys(TIMM.models);

/** Our export of a checkpoint in onnxruntime, against timm's logits: max |ours - timm| / max |timm|. */
async function againstTimm(
  ckpt: Checkpoint,
  source: string,
  record: V4Logits,
  opset = 17,
): Promise<{ rel: number; bytes: Uint8Array }> {
  const shape = record.input.shape as number[];
  const m = buildWithWeights({ arch: record.arch, width: record.width, resolution: shape[2]! }, ckpt, { source });
  expect([m.format, m.config.convention, m.config.classes], source).toEqual(['timm', 'timm', record.logits.length]);
  const bytes = toOnnx(m.graph, { opset });
  const out = await runOrt(bytes, { input: { data: formulaInput(shape), dims: shape } });
  return { rel: relError(out.logits!.data as Float32Array, record.logits), bytes };
}

describe("timm's logits with formula weights (committed fixtures; no timm needed)", () => {
  it('the TypeScript formula makes the same float32 bits as its Python twin, for every sampled key', () => {
    for (const name of NAMES) {
      const { probes, input, weights } = committed(name);
      expect(weights).toMatch(/^formula_weights\.py \/ testing-formula\.ts/);
      expect(input.shape).toEqual([1, 3, TIMM_V4_CFGS[name]!.input, TIMM_V4_CFGS[name]!.input]);
      for (const [key, values] of Object.entries(probes)) {
        const v = formulaTensor(key, TIMM.models[name]!.keys[key]!);
        for (const [i, want] of Object.entries(values))
          expect(v[Number(i)], `${name} ${key}[${i}]`).toBe(Math.fround(want));
      }
    }
  });

  // The checkpoint carries exactly timm's state_dict keys and shapes (fixtures/timm-v4/timm-v4-keys.json), written
  // as a safetensors file and read back through the normal loader: the keys load by identity.
  it.each(NAMES)(
    "%s at timm's input size: timm's keys load by identity from safetensors; our export gives timm's logits (rel < 1e-4)",
    async (name) => {
      const record = committed(name);
      expect([record.timm, record.arch, record.width]).toEqual([
        TIMM.timm,
        TIMM.models[name]!.arch,
        TIMM.models[name]!.width,
      ]);
      const file = `${name}.safetensors`;
      const ckpt = readCheckpoint(writeSafetensors(formulaCheckpoint(TIMM.models[name]!.keys)), file);
      // Opset 17 writes GELU as Erf arithmetic; opset 20 as ONNX Gelu.
      for (const opset of record.arch === 'v4-hybrid-large' ? [17, 20] : [17]) {
        const { rel } = await againstTimm(ckpt, file, record, opset);
        console.log(
          `${name} ${record.input.shape[2]}px opset ${opset}: rel ${rel.toExponential(2)} of max |logit| ${Math.max(...record.logits.map(Math.abs)).toFixed(1)}`,
        );
        expect(rel, `${name} opset ${opset}`).toBeLessThan(1e-4);
      }
    },
    120_000,
  );

  const onnxMissing = pythonOnnxMissing();
  it.skipIf(onnxMissing !== null)(
    `every variant's export passes onnx.checker full_check ${onnxMissing ? `(skipped: ${onnxMissing})` : ''}`,
    () => {
      for (let i = 0; i < NAMES.length; i += 3) {
        const batch = Object.fromEntries(
          NAMES.slice(i, i + 3).map((name) => {
            const t = TIMM.models[name]!;
            const ckpt = new Map(Object.entries(formulaCheckpoint(t.keys)));
            return [name, toOnnx(buildWithWeights({ arch: t.arch, width: t.width }, ckpt, { source: name }).graph)];
          }),
        );
        expect(onnxCheck(batch).filter((x) => !x.ok)).toEqual([]);
      }
    },
    600_000,
  );
});

/** Why timm (from TIMM_SRC, default /work/timm-src) cannot run here, or null. CI has no timm: the committed fixtures
 * above are its proof; a TIMM_SRC that is set must work. */
function timmMissing(): string | null {
  const python = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
  const src = process.env.TIMM_SRC ?? '/work/timm-src';
  const r = spawnSync(
    python,
    ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(src)}); import torch, torchvision, timm`],
    { encoding: 'utf8' },
  );
  if (r.status === 0) return null;
  const why = `${python} cannot import torch, torchvision and timm (TIMM_SRC=${src}): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}; the committed fixtures stand in`;
  if (process.env.CI && process.env.TIMM_SRC) throw new Error(`TIMM_SRC is set but ${why}`);
  return why;
}

describe("timm run now (when importable): the same weights as users' .safetensors and .pth files, and the fixtures still current", () => {
  const missing = timmMissing();
  let dir = '';
  beforeAll(() => {
    if (missing) return;
    dir = runFixtureScript('timm_v4.py');
  }, 600_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));
  const fresh = (name: string): V4Logits => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));

  it.skipIf(missing !== null)(
    `timm's logits now equal the committed ones (rel < 1e-6) ${missing ? `(skipped: ${missing})` : ''}`,
    () => {
      for (const name of NAMES) {
        const [now, then] = [fresh(name), committed(name)];
        expect([now.input, now.probes], name).toEqual([then.input, then.probes]);
        expect(relError(now.logits, then.logits), name).toBeLessThan(1e-6);
      }
    },
  );

  it.skipIf(missing !== null)(
    `every variant, from timm's .safetensors (F32) and .pth (torch.save), gives timm's logits (rel < 1e-4) ${missing ? `(skipped: ${missing})` : ''}`,
    async () => {
      const report: string[] = [];
      for (const name of NAMES) {
        for (const file of [`${name}.safetensors`, `${name}.pth`]) {
          const { rel } = await againstTimm(readCheckpoint(readFileSync(join(dir, file)), file), file, fresh(name));
          report.push(`${file}: ${rel.toExponential(2)}`);
          expect(rel, file).toBeLessThan(1e-4);
        }
      }
      console.log(`relative max |logit error| vs timm now:\n${report.join('\n')}`);
    },
    600_000,
  );
});
