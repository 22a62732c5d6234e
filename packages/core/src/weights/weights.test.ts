import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../models/build.js';
import type { Convention } from '../models/convention.js';
import type { Arch } from '../models/builtin.js';
import { toOnnx } from '../onnx/write.js';
import { analyze } from '../analysis.js';
import { makeZip, maxAbsDiff, pythonTorchMissing, runFixtureScript, runOrt } from '../../test/testing.js';
import { readCheckpoint, readPth, readSafetensors, writeSafetensors } from './index.js';
import { buildWithWeights } from './load.js';
import { foldBatchNorm } from '../passes/fold-batch-norm.js';
import { keyMap } from './mapping.js';
import { type Checkpoint, type CheckpointTensor, toFloat32 } from './tensor.js';
import { unpickle } from './pickle.js';

const f32 = (path: string) => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const scale = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** max|ours - theirs| / max|theirs|; Infinity when the lengths differ. */
const rel = (ours: Float32Array, theirs: Float32Array) => maxAbsDiff(ours, theirs) / scale(theirs);
async function logits(graph: Parameters<typeof toOnnx>[0], input: Float32Array, size: number) {
  const out = await runOrt(toOnnx(graph), { input: { data: input, dims: [1, 3, size, size] } });
  return out.logits!.data as Float32Array;
}

describe('torchvision checkpoints against PyTorch (tools/fixtures/torchvision_checkpoints.py)', () => {
  const missing = pythonTorchMissing();
  let dir = '';
  let manifest: {
    cases: Record<string, { arch: Arch; width: number; classes: number; dtype: string; legacy: boolean }>;
  } = { cases: {} };
  beforeAll(() => {
    if (missing) return;
    dir = runFixtureScript('torchvision_checkpoints.py');
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it.skipIf(missing !== null)(
    `v2, v3-large, v3-small and a 0.5-width 10-class v2: .pth, legacy .pth and safetensors give PyTorch's logits ${missing ? `(skipped: ${missing})` : ''}`,
    async () => {
      expect(Object.keys(manifest.cases)).toEqual(['v2', 'v3-large', 'v3-small', 'v2-0.5-10cls']);
      for (const [name, c] of Object.entries(manifest.cases)) {
        const expected = f32(join(dir, `${name}.logits.bin`));
        const input = f32(join(dir, `${name}.input.bin`));
        const files = [`${name}.pth`, `${name}.safetensors`, ...(c.legacy ? [`${name}.legacy.pth`] : [])];
        for (const file of files) {
          const ckpt = readCheckpoint(readFileSync(join(dir, file)), file);
          const m = buildWithWeights({ arch: c.arch, width: c.width, convention: 'torchvision' }, ckpt, {
            source: file,
          });
          expect(m.format, file).toBe('torchvision');
          expect(m.config.classes, file).toBe(c.classes);
          const got = await logits(m.graph, input, 224);
          expect(maxAbsDiff(got, expected) / Math.max(1, scale(expected)), file).toBeLessThan(1e-4);
        }
      }
    },
  );

  it.skipIf(missing !== null)(
    `no convention given: the torchvision keys choose torchvision's, and PyTorch's logits; a contradicting one warns, naming both ${missing ? `(skipped: ${missing})` : ''}`,
    async () => {
      const ckpt = readCheckpoint(readFileSync(join(dir, 'v2.safetensors')), 'v2.safetensors');
      const input = f32(join(dir, 'v2.input.bin'));
      const expected = f32(join(dir, 'v2.logits.bin'));
      const auto = buildWithWeights({ arch: 'v2' }, ckpt, { source: 'v2.safetensors' });
      expect([auto.config.convention, auto.conventionFrom, auto.conventionNote, auto.warning]).toEqual([
        'torchvision',
        'layout',
        'convention torchvision, from the torchvision key layout',
        undefined,
      ]);
      expect(rel(await logits(auto.graph, input, 224), expected)).toBeLessThan(1e-4);
      const reference = buildWithWeights({ arch: 'v2', convention: 'reference' }, ckpt, { source: 'v2.safetensors' });
      expect(reference.config.convention).toBe('reference');
      expect(reference.warning).toMatch(
        /^v2\.safetensors: convention reference was given, but the checkpoint has torchvision keys, whose models use convention torchvision; building with reference as asked/,
      );
      // What the warning is for: TF padding and BN eps 1e-3 move the logits (the issue measured 5.5e-3 of their scale).
      expect(rel(await logits(reference.graph, input, 224), expected)).toBeGreaterThan(1e-3);
    },
  );

  it.skipIf(missing !== null)('BN folding keeps the logits (v3-large)', async () => {
    const ckpt = readCheckpoint(readFileSync(join(dir, 'v3-large.pth')), 'v3-large.pth');
    const m = buildWithWeights({ arch: 'v3-large', convention: 'torchvision' }, ckpt);
    const folded = foldBatchNorm(m.graph);
    expect(folded.nodes.filter((n) => n.op === 'BatchNormalization')).toHaveLength(0);
    expect(m.graph.nodes.filter((n) => n.op === 'BatchNormalization')).toHaveLength(46);
    const input = f32(join(dir, 'v3-large.input.bin'));
    const expected = f32(join(dir, 'v3-large.logits.bin'));
    expect(maxAbsDiff(await logits(folded, input, 224), expected) / Math.max(1, scale(expected))).toBeLessThan(1e-4);
  });
});

// timm's own key layout, pretrained_cfg and logits, made by tools/fixtures/timm_fixtures.py with timm 1.0.29.
const TIMM_DIR = new URL('../../test/fixtures/timm/', import.meta.url).pathname;
const TIMM = JSON.parse(readFileSync(join(TIMM_DIR, 'timm-keys.json'), 'utf8')) as {
  models: Record<
    string,
    {
      keys: Record<string, number[]>;
      params: number;
      pretrained_cfg: {
        tag: string;
        mean: number[];
        std: number[];
        interpolation: string;
        crop_pct: number;
        input_size: number[];
      };
    }
  >;
};
function timmOptions(name: string): { arch: Arch; width: number; minimalistic: boolean; convention: Convention } {
  const m = /^(tf_)?mobilenetv(\d)_(large_|small_)?(minimal_)?(\d+)$/.exec(name)!;
  const arch = (m[2] === '3' ? `v3-${m[3]!.slice(0, -1)}` : `v${m[2]}`) as Arch;
  // timm's tf_ models are ports of the TF weights: TF 'SAME' padding and BN eps 1e-3 in timm's layout.
  return { arch, width: Number(m[5]) / 100, minimalistic: Boolean(m[4]), convention: m[1] ? 'timm-tf' : 'timm' };
}

describe('timm key layout and preprocessing, from timm itself', () => {
  for (const [name, t] of Object.entries(TIMM.models)) {
    it(`${name}: same keys and shapes, same parameter count, pretrained_cfg's preprocessing`, () => {
      const o = timmOptions(name);
      const { graph, config } = buildModel({ ...o, weights: null });
      const map = keyMap(graph, config.arch, 'timm');
      const dims = new Map(graph.initializers.map((i) => [i.name, i.dims]));
      // A head layer may be a 1x1 conv on one side and a Linear on the other: [out, in, 1, 1] and [out, in] agree.
      const head = (s: readonly number[]) => s.filter((d, i) => i < 2 || d !== 1);
      const ours = Object.fromEntries([...map].map(([k, v]) => [v, head(dims.get(k)!)]));
      const theirs = Object.fromEntries(
        Object.entries(t.keys)
          .filter(([k]) => !k.endsWith('num_batches_tracked'))
          .map(([k, s]) => [k, head(s)]),
      );
      expect(ours).toEqual(theirs);
      expect(analyze(graph).params).toBe(t.params);
      // timm's eval transform: resize the short side to floor(size / crop_pct), center-crop size. An 'untrained'
      // default tag has no weights, hence no preprocessing they were trained with (timm's mobilenetv3 _cfg default).
      const cfg = t.pretrained_cfg;
      if (cfg.tag === 'untrained') return;
      const size = cfg.input_size[2]!;
      expect(JSON.parse(graph.metadata['mobilenet.preprocessing']!)).toEqual({
        mean: cfg.mean,
        std: cfg.std,
        resizeMode: 'crop',
        resize: Math.floor(size / cfg.crop_pct),
        size,
        interpolation: cfg.interpolation,
      });
    });
  }
});

interface TimmCase {
  timm: string;
  arch: Arch;
  width: number;
  minimalistic: boolean;
  tf: boolean;
  resolution: number;
  classes: number;
}

/** Loads a case of timm_fixtures.py as a user would: no convention for timm's own models (it follows the keys), timm-tf for tf_ ports. */
async function timmCase(dir: string, name: string, c: TimmCase) {
  const file = `${name}.safetensors`;
  const ckpt = readCheckpoint(readFileSync(join(dir, file)), file);
  const m = buildWithWeights(
    {
      arch: c.arch,
      width: c.width,
      minimalistic: c.minimalistic,
      resolution: c.resolution,
      ...(c.tf && { convention: 'timm-tf' as const }),
    },
    ckpt,
    { source: file },
  );
  const io = readSafetensors(readFileSync(join(dir, `${name}.io.safetensors`)), `${name}.io.safetensors`).tensors;
  const expected = toFloat32(io.get('logits')!, 'logits');
  return {
    m,
    expected,
    error: rel(await logits(m.graph, toFloat32(io.get('input')!, 'input'), c.resolution), expected),
  };
}

describe("timm's logits, every family (committed fixtures, tools/fixtures/timm_fixtures.py)", () => {
  const manifest = JSON.parse(readFileSync(join(TIMM_DIR, 'manifest.json'), 'utf8')) as {
    timm: string;
    cases: Record<string, TimmCase>;
  };

  it('covers v1, v2, v3-large, v3-small, a tf_ port and reduced widths', () => {
    const cases = Object.values(manifest.cases);
    expect(new Set(cases.map((c) => c.arch))).toEqual(new Set(['v1', 'v2', 'v3-large', 'v3-small']));
    expect(cases.some((c) => c.tf)).toBe(true);
    expect(cases.filter((c) => c.width < 1).length).toBe(cases.length);
    expect(manifest.timm).toMatch(/^1\.0\.29/);
  });

  for (const [name, c] of Object.entries(manifest.cases)) {
    it(`${name} (${c.timm}, ${c.resolution}x${c.resolution}, float16 weights): timm's logits to 1e-4`, async () => {
      const { m, error } = await timmCase(TIMM_DIR, name, c);
      expect([m.format, m.detected, m.config.convention, m.conventionFrom, m.warning]).toEqual([
        'timm',
        'timm (found conv_stem.weight)',
        c.tf ? 'timm-tf' : 'timm',
        c.tf ? 'option' : 'layout',
        undefined,
      ]);
      expect(m.config.classes).toBe(c.classes);
      expect(error).toBeLessThan(1e-4);
    });
  }

  it("a tf_ port built with the timm convention (what the keys alone suggest) is far from timm's logits", async () => {
    const { error } = await timmCase(TIMM_DIR, 'tf_mobilenetv3_small_025', {
      ...manifest.cases.tf_mobilenetv3_small_025!,
      tf: false,
    });
    expect(error).toBeGreaterThan(1e-2);
  });
});

const timmMissing = ((): string | null => {
  const python = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(
    python,
    ['-c', 'import os, sys; sys.path.insert(0, os.environ.get("TIMM_SRC", "")); import torch, timm'],
    { encoding: 'utf8' },
  );
  if (r.status === 0) return null;
  const why = `${python} cannot import timm (set TIMM_SRC to a checkout of github.com/huggingface/pytorch-image-models): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  // timm is not a CI dependency (the committed fixtures above are); a TIMM_SRC that is set must work.
  if (process.env.CI && process.env.TIMM_SRC) throw new Error(`TIMM_SRC is set but ${why}`);
  return why;
})();

describe("timm's registered models as users have them (tools/fixtures/timm_registered.py, run now)", () => {
  let dir = '';
  let cases: Record<string, TimmCase> = {};
  beforeAll(() => {
    if (timmMissing) return;
    dir = runFixtureScript('timm_registered.py');
    cases = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).cases;
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it.skipIf(timmMissing !== null)(
    `v1, v2, v3 and tf_ ports, full width, 1000 classes, 224x224: timm's logits to 1e-4 ${timmMissing ? `(skipped: ${timmMissing})` : ''}`,
    async () => {
      expect(Object.keys(cases)).toContain('mobilenetv1_100');
      for (const [name, c] of Object.entries(cases)) {
        const { m, error } = await timmCase(dir, name, c);
        expect(m.config.convention, name).toBe(c.tf ? 'timm-tf' : 'timm');
        expect(error, name).toBeLessThan(1e-4);
      }
    },
  );
});

const tensor = (dtype: CheckpointTensor['dtype'], shape: number[], values: number[]): CheckpointTensor => ({
  dtype,
  shape,
  bytes: new Uint8Array(Float32Array.from(values).buffer),
});

describe('bad checkpoints: errors name the file, the key and what was expected', () => {
  const good = writeSafetensors({ a: tensor('F32', [2], [1, 2]) });

  it('safetensors: truncated, lying header length, bad JSON, offsets or shapes that lie', () => {
    expect(() => readSafetensors(good.subarray(0, 5), 'w.safetensors')).toThrow(
      'w.safetensors: expected a safetensors file (at least an 8-byte header length), received 5 bytes',
    );
    expect(() => readSafetensors(good.subarray(0, 20), 'w.safetensors')).toThrow(
      /w\.safetensors: header: expected a header length of at most 12 \(the file's size\)/,
    );
    const lie = (header: object) => {
      const h = new TextEncoder().encode(JSON.stringify(header));
      const b = new Uint8Array(8 + h.length + 8);
      new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
      b.set(h, 8);
      return b;
    };
    expect(() => readSafetensors(lie({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 16] } }), 'x')).toThrow(
      "x: tensor 'a': expected data_offsets within the 8 data bytes, received [0,16]",
    );
    expect(() => readSafetensors(lie({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }), 'x')).toThrow(
      "x: tensor 'a': expected 12 bytes for F32 [3], received 8 bytes (data_offsets 0..8)",
    );
    expect(() => readSafetensors(lie({ a: { dtype: 'Q8', shape: [2], data_offsets: [0, 8] } }), 'x')).toThrow(
      /x: tensor 'a': expected a dtype among/,
    );
    expect(() =>
      readSafetensors(
        lie({
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          b: { dtype: 'F32', shape: [1], data_offsets: [2, 6] },
        }),
        'x',
      ),
    ).toThrow(/not overlapping/);
    const notJson = Uint8Array.from([...new Uint8Array(new BigUint64Array([4n]).buffer), 0x7b, 0x7b, 0x7b, 0x7b]);
    expect(() => readSafetensors(notJson, 'x')).toThrow(/x: header: expected a UTF-8 JSON object/);
  });

  it('pth: a zip without data.pkl, a truncated zip, not a checkpoint at all', () => {
    expect(() => readPth(makeZip({ 'archive/version': new TextEncoder().encode('3\n') }), 'm.pth')).toThrow(
      "m.pth: expected a PyTorch zip checkpoint with '<archive>/data.pkl', received entries archive/version",
    );
    const zip = makeZip({ 'archive/data.pkl': Uint8Array.of(0x80, 0x02, 0x7d, 0x2e) });
    expect(() => readPth(zip.subarray(0, zip.length - 10), 'cut.pth')).toThrow(/cut\.pth: expected a zip archive/);
    expect(() => readPth(new TextEncoder().encode('hello'), 'notes.pth')).toThrow(
      'notes.pth: expected a PyTorch checkpoint (a zip archive, or a pickle), received 5 bytes starting 68 65 6c 6c',
    );
  });

  it('a pickle that names os.system (or any global outside the allow-list) is refused, by name, before anything runs', () => {
    const evil = Uint8Array.from([0x80, 0x02, ...new TextEncoder().encode('cos\nsystem\nX\x02\x00\x00\x00ls\x85R.')]);
    expect(() => unpickle(evil, 'evil.pth')).toThrow(
      "evil.pth: pickle global 'os.system': expected only state_dict contents",
    );
    expect(() => readPth(makeZip({ 'archive/data.pkl': evil }), 'evil.pth')).toThrow(
      /'os\.system', which is refused: a checkpoint must not run code/,
    );
    const builtins = Uint8Array.from([0x80, 0x02, ...new TextEncoder().encode('cbuiltins\neval\n.')]);
    expect(() => unpickle(builtins, 'b.pth')).toThrow(/'builtins\.eval', which is refused/);
  });

  const v3small = () => buildModel({ arch: 'v3-small', convention: 'torchvision', weights: 3 }).graph;
  const asCheckpoint = (g: ReturnType<typeof v3small>): Map<string, CheckpointTensor> =>
    new Map(
      g.initializers
        .filter((i) => !i.name.startsWith('const.'))
        .map((i) => [
          i.name,
          { dtype: 'F32' as const, shape: i.dims, bytes: new Uint8Array((i.data as Float32Array).buffer) },
        ]),
    );

  it('the convention follows the key layout unless given; one the layout contradicts is built as asked, with a warning naming both', () => {
    const ckpt = asCheckpoint(v3small());
    const auto = buildWithWeights({ arch: 'v3-small' }, ckpt, { source: 's.pth' });
    expect([auto.config.convention, auto.conventionFrom, auto.warning, auto.config.bnEps]).toEqual([
      'torchvision',
      'layout',
      undefined,
      1e-3,
    ]);
    const given = buildWithWeights({ arch: 'v3-small', convention: 'torchvision' }, ckpt, { source: 's.pth' });
    expect([given.conventionFrom, given.conventionNote, given.warning]).toEqual([
      'option',
      'convention torchvision, as given',
      undefined,
    ]);
    const keras = buildWithWeights({ arch: 'v3-small', convention: 'keras' }, ckpt, { source: 's.pth' });
    expect(keras.config.convention).toBe('keras');
    expect(keras.warning).toBe(
      's.pth: convention keras was given, but the checkpoint has torchvision keys, whose models use convention torchvision; building with keras as asked (padding, BN epsilon or head may not be the ones these weights were trained with)',
    );
    const toTimm = keyMap(v3small(), 'v3-small', 'timm');
    const timmKeys = new Map([...ckpt].map(([k, t]) => [toTimm.get(k) ?? k, t]));
    const timm = buildWithWeights({ arch: 'v3-small' }, timmKeys, { source: 't.safetensors' });
    expect([timm.config.convention, timm.conventionNote]).toEqual([
      'timm',
      "convention timm, from the timm key layout; timm's tf_ models need convention timm-tf",
    ]);
    expect(buildWithWeights({ arch: 'v3-small', convention: 'timm-tf' }, timmKeys).warning).toBeUndefined();
    expect(
      buildWithWeights({ arch: 'v3-small', convention: 'torchvision' }, timmKeys, { source: 't.safetensors' }).warning,
    ).toMatch(
      /^t\.safetensors: convention torchvision was given, but the checkpoint has timm keys, whose models use convention timm or timm-tf;/,
    );
  });

  it('another architecture or width, missing and unexpected keys, NaN weights', () => {
    const ckpt = asCheckpoint(v3small());
    expect(buildWithWeights({ arch: 'v3-small', convention: 'torchvision' }, ckpt).config.classes).toBe(1000);
    expect(() => buildWithWeights({ arch: 'v2', convention: 'torchvision' }, ckpt, { source: 'small.pth' })).toThrow(
      /^small\.pth: expected the 262 torchvision keys of v2 width 1, received \d+ missing \(.*\); \d+ unexpected/,
    );
    expect(() =>
      buildWithWeights({ arch: 'v3-small', width: 0.75, convention: 'torchvision' }, ckpt, { source: 'small.pth' }),
    ).toThrow(
      /^small\.pth: tensor 'features\.0\.0\.weight': expected shape \[\d+, 3, 3, 3\] for v3-small width 0\.75, received \[16, 3, 3, 3\]|^small\.pth: tensor '.*': expected shape/,
    );
    const partial = new Map(ckpt);
    partial.delete('features.3.block.1.1.running_var');
    partial.set('extra.weight', tensor('F32', [1], [0]));
    expect(() =>
      buildWithWeights({ arch: 'v3-small', convention: 'torchvision' }, partial, { source: 'p.pth' }),
    ).toThrow(
      'p.pth: expected the 210 torchvision keys of v3-small width 1, received 1 missing (features.3.block.1.1.running_var); 1 unexpected (extra.weight)',
    );
    const nan = new Map(ckpt);
    nan.set('features.2.block.0.0.weight', {
      ...ckpt.get('features.2.block.0.0.weight')!,
      bytes: new Uint8Array(new Float32Array(72 * 16).fill(Number.NaN).buffer),
    });
    expect(() => buildWithWeights({ arch: 'v3-small', convention: 'torchvision' }, nan, { source: 'nan.pth' })).toThrow(
      "nan.pth: tensor 'features.2.block.0.0.weight': expected finite weights, received NaN at flat index 0",
    );
    expect(() =>
      buildWithWeights({ arch: 'v3-small', convention: 'torchvision', classes: 10 }, ckpt, { source: 'c.pth' }),
    ).toThrow(
      "c.pth: tensor 'classifier.3.weight': expected 10 classes (option classes), received 1000 (shape [1000, 1024])",
    );
    const unknown: Checkpoint = new Map([['weight', tensor('F32', [1], [1])]]);
    expect(() => buildWithWeights({ arch: 'v2' }, unknown, { source: 'u.bin' })).toThrow(
      /^u\.bin: expected torchvision keys .* or timm keys .*, received keys weight/,
    );
  });
});
