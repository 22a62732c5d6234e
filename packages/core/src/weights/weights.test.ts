import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../models/build.js';
import type { Arch, Convention } from '../models/convention.js';
import { toOnnx } from '../onnx/write.js';
import { analyze } from '../analysis.js';
import { makeZip, maxAbsDiff, pythonTorchMissing, runFixtureScript, runOrt } from '../testing.js';
import { readCheckpoint, readPth, readSafetensors, writeSafetensors } from './index.js';
import { buildWithWeights } from './load.js';
import { foldBatchNorm } from './fold.js';
import { keyMap } from './mapping.js';
import { type Checkpoint, type CheckpointTensor, toFloat32 } from './tensor.js';
import { unpickle } from './pickle.js';

const f32 = (path: string) => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const scale = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
async function logits(graph: Parameters<typeof toOnnx>[0], input: Float32Array, size: number) {
  const out = await runOrt(toOnnx(graph), { input: { data: input, dims: [1, 3, size, size] } });
  return out.logits!.data as Float32Array;
}

describe('torchvision checkpoints against PyTorch (tools/fixtures/torchvision_checkpoints.py)', () => {
  const missing = pythonTorchMissing();
  let dir = '';
  let manifest: { cases: Record<string, { arch: Arch; width: number; classes: number; dtype: string; legacy: boolean }> } = { cases: {} };
  beforeAll(() => {
    if (missing) return;
    dir = runFixtureScript('torchvision_checkpoints.py');
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  }, 120_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it.skipIf(missing !== null)(`v2, v3-large, v3-small and a 0.5-width 10-class v2: .pth, legacy .pth and safetensors give PyTorch's logits ${missing ? `(skipped: ${missing})` : ''}`, async () => {
    expect(Object.keys(manifest.cases)).toEqual(['v2', 'v3-large', 'v3-small', 'v2-0.5-10cls']);
    for (const [name, c] of Object.entries(manifest.cases)) {
      const expected = f32(join(dir, `${name}.logits.bin`));
      const input = f32(join(dir, `${name}.input.bin`));
      const files = [`${name}.pth`, `${name}.safetensors`, ...(c.legacy ? [`${name}.legacy.pth`] : [])];
      for (const file of files) {
        const ckpt = readCheckpoint(readFileSync(join(dir, file)), file);
        const m = buildWithWeights({ arch: c.arch, width: c.width, convention: 'torchvision' }, ckpt, { source: file });
        expect(m.format, file).toBe('torchvision');
        expect(m.config.classes, file).toBe(c.classes);
        const got = await logits(m.graph, input, 224);
        expect(maxAbsDiff(got, expected) / Math.max(1, scale(expected)), file).toBeLessThan(1e-4);
      }
    }
  });

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

// timm's own key layout and logits, made by tools/fixtures/timm_fixtures.py with timm 1.0.29.
const TIMM = JSON.parse(readFileSync(new URL('../fixtures/timm/timm-keys.json', import.meta.url), 'utf8')) as {
  models: Record<string, { keys: Record<string, number[]>; params: number }>;
};
function timmOptions(name: string): { arch: Arch; width: number; minimalistic: boolean; convention: Convention } {
  const m = /^(tf_)?mobilenetv(\d)_(large_|small_)?(minimal_)?(\d+)$/.exec(name)!;
  const arch = (m[2] === '3' ? `v3-${m[3]!.slice(0, -1)}` : `v${m[2]}`) as Arch;
  // timm's tf_ models are ports of the TF weights: TF 'SAME' padding and BN eps 1e-3, i.e. the Keras convention.
  return { arch, width: Number(m[5]) / 100, minimalistic: Boolean(m[4]), convention: m[1] ? 'keras' : 'timm' };
}

describe('timm key layout, from timm itself', () => {
  for (const [name, t] of Object.entries(TIMM.models)) {
    it(`${name}: same keys and shapes, same parameter count`, () => {
      const o = timmOptions(name);
      const { graph, config } = buildModel({ ...o, weights: null });
      const map = keyMap(graph, config.arch, 'timm');
      const dims = new Map(graph.initializers.map((i) => [i.name, i.dims]));
      // A head layer may be a 1x1 conv on one side and a Linear on the other: [out, in, 1, 1] and [out, in] agree.
      const head = (s: readonly number[]) => s.filter((d, i) => i < 2 || d !== 1);
      const ours = Object.fromEntries([...map].map(([k, v]) => [v, head(dims.get(k)!)]));
      const theirs = Object.fromEntries(Object.entries(t.keys).filter(([k]) => !k.endsWith('num_batches_tracked')).map(([k, s]) => [k, head(s)]));
      expect(ours).toEqual(theirs);
      expect(analyze(graph).params).toBe(t.params);
    });
  }

  it('mobilenetv3_small_050 safetensors (float16) gives timm\'s logits; auto-detects the timm layout', async () => {
    const file = new URL('../fixtures/timm/mobilenetv3_small_050.safetensors', import.meta.url).pathname;
    const { tensors, metadata } = readSafetensors(readFileSync(file), 'mobilenetv3_small_050.safetensors');
    expect(metadata.source).toMatch(/^timm 1\.0\.29 mobilenetv3_small_050/);
    const m = buildWithWeights({ arch: 'v3-small', width: 0.5, convention: 'timm', resolution: 96 }, tensors, { source: 'timm' });
    expect([m.format, m.detected]).toEqual(['timm', 'timm (found conv_stem.weight)']);
    const io = readSafetensors(readFileSync(file.replace('.safetensors', '.io.safetensors')), 'io').tensors;
    const input = toFloat32(io.get('input')!, 'input');
    const expected = toFloat32(io.get('logits')!, 'logits');
    expect(maxAbsDiff(await logits(m.graph, input, 96), expected) / scale(expected)).toBeLessThan(1e-4);
  });
});

const tensor = (dtype: CheckpointTensor['dtype'], shape: number[], values: number[]): CheckpointTensor => ({
  dtype,
  shape,
  bytes: new Uint8Array(Float32Array.from(values).buffer),
});

describe('bad checkpoints: errors name the file, the key and what was expected', () => {
  const good = writeSafetensors({ a: tensor('F32', [2], [1, 2]) });

  it('safetensors: truncated, lying header length, bad JSON, offsets or shapes that lie', () => {
    expect(() => readSafetensors(good.subarray(0, 5), 'w.safetensors')).toThrow('w.safetensors: expected a safetensors file (at least an 8-byte header length), received 5 bytes');
    expect(() => readSafetensors(good.subarray(0, 20), 'w.safetensors')).toThrow(/w\.safetensors: header: expected a header length of at most 12 \(the file's size\)/);
    const lie = (header: object) => {
      const h = new TextEncoder().encode(JSON.stringify(header));
      const b = new Uint8Array(8 + h.length + 8);
      new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
      b.set(h, 8);
      return b;
    };
    expect(() => readSafetensors(lie({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 16] } }), 'x')).toThrow("x: tensor 'a': expected data_offsets within the 8 data bytes, received [0,16]");
    expect(() => readSafetensors(lie({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }), 'x')).toThrow("x: tensor 'a': expected 12 bytes for F32 [3], received 8 bytes (data_offsets 0..8)");
    expect(() => readSafetensors(lie({ a: { dtype: 'Q8', shape: [2], data_offsets: [0, 8] } }), 'x')).toThrow(/x: tensor 'a': expected a dtype among/);
    expect(() => readSafetensors(lie({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } }), 'x')).toThrow(/not overlapping/);
    const notJson = Uint8Array.from([...new Uint8Array(new BigUint64Array([4n]).buffer), 0x7b, 0x7b, 0x7b, 0x7b]);
    expect(() => readSafetensors(notJson, 'x')).toThrow(/x: header: expected a UTF-8 JSON object/);
  });

  it('pth: a zip without data.pkl, a truncated zip, not a checkpoint at all', () => {
    expect(() => readPth(makeZip({ 'archive/version': new TextEncoder().encode('3\n') }), 'm.pth')).toThrow("m.pth: expected a PyTorch zip checkpoint with '<archive>/data.pkl', received entries archive/version");
    const zip = makeZip({ 'archive/data.pkl': Uint8Array.of(0x80, 0x02, 0x7d, 0x2e) });
    expect(() => readPth(zip.subarray(0, zip.length - 10), 'cut.pth')).toThrow(/cut\.pth: expected a zip archive/);
    expect(() => readPth(new TextEncoder().encode('hello'), 'notes.pth')).toThrow('notes.pth: expected a PyTorch checkpoint (a zip archive, or a pickle), received 5 bytes starting 68 65 6c 6c');
  });

  it('a pickle that names os.system (or any global outside the allow-list) is refused, by name, before anything runs', () => {
    const evil = Uint8Array.from([0x80, 0x02, ...new TextEncoder().encode('cos\nsystem\nX\x02\x00\x00\x00ls\x85R.')]);
    expect(() => unpickle(evil, 'evil.pth')).toThrow("evil.pth: pickle global 'os.system': expected only state_dict contents");
    expect(() => readPth(makeZip({ 'archive/data.pkl': evil }), 'evil.pth')).toThrow(/'os\.system', which is refused: a checkpoint must not run code/);
    const builtins = Uint8Array.from([0x80, 0x02, ...new TextEncoder().encode('cbuiltins\neval\n.')]);
    expect(() => unpickle(builtins, 'b.pth')).toThrow(/'builtins\.eval', which is refused/);
  });

  const v3small = () => buildModel({ arch: 'v3-small', convention: 'torchvision', weights: 3 }).graph;
  const asCheckpoint = (g: ReturnType<typeof v3small>): Map<string, CheckpointTensor> =>
    new Map(g.initializers.filter((i) => !i.name.startsWith('const.')).map((i) => [i.name, { dtype: 'F32' as const, shape: i.dims, bytes: new Uint8Array((i.data as Float32Array).buffer) }]));

  it('another architecture or width, missing and unexpected keys, NaN weights', () => {
    const ckpt = asCheckpoint(v3small());
    expect(buildWithWeights({ arch: 'v3-small', convention: 'torchvision' }, ckpt).config.classes).toBe(1000);
    expect(() => buildWithWeights({ arch: 'v2', convention: 'torchvision' }, ckpt, { source: 'small.pth' })).toThrow(/^small\.pth: expected the 262 torchvision keys of v2 width 1, received \d+ missing \(.*\); \d+ unexpected/);
    expect(() => buildWithWeights({ arch: 'v3-small', width: 0.75, convention: 'torchvision' }, ckpt, { source: 'small.pth' })).toThrow(/^small\.pth: tensor 'features\.0\.0\.weight': expected shape \[\d+, 3, 3, 3\] for v3-small width 0\.75, received \[16, 3, 3, 3\]|^small\.pth: tensor '.*': expected shape/);
    const partial = new Map(ckpt);
    partial.delete('features.3.block.1.1.running_var');
    partial.set('extra.weight', tensor('F32', [1], [0]));
    expect(() => buildWithWeights({ arch: 'v3-small', convention: 'torchvision' }, partial, { source: 'p.pth' })).toThrow("p.pth: expected the 210 torchvision keys of v3-small width 1, received 1 missing (features.3.block.1.1.running_var); 1 unexpected (extra.weight)");
    const nan = new Map(ckpt);
    nan.set('features.2.block.0.0.weight', { ...ckpt.get('features.2.block.0.0.weight')!, bytes: new Uint8Array(new Float32Array(72 * 16).fill(Number.NaN).buffer) });
    expect(() => buildWithWeights({ arch: 'v3-small', convention: 'torchvision' }, nan, { source: 'nan.pth' })).toThrow("nan.pth: tensor 'features.2.block.0.0.weight': expected finite weights, received NaN at flat index 0");
    expect(() => buildWithWeights({ arch: 'v3-small', convention: 'torchvision', classes: 10 }, ckpt, { source: 'c.pth' })).toThrow("c.pth: tensor 'classifier.3.weight': expected 10 classes (option classes), received 1000 (shape [1000, 1024])");
    const unknown: Checkpoint = new Map([['weight', tensor('F32', [1], [1])]]);
    expect(() => buildWithWeights({ arch: 'v2' }, unknown, { source: 'u.bin' })).toThrow(/^u\.bin: expected torchvision keys .* or timm keys .*, received keys weight/);
  });
});
