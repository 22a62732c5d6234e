import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_OPSET, buildModel, fromOnnx, summarizeOnnx } from '@mobilenet/core';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultOpset } from './commands/export.js';
import { main } from './index.js';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTty: false });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'mobilenet-precision-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The runtime's test pictures (decodable by sharp in every mode), copied under new names: 8 or more are needed.
const FIX = resolve(import.meta.dirname, '../../runtime-node/test/fixtures');
const PICTURES = [
  'scene.png',
  'scene.jpg',
  'scene.webp',
  'tall.png',
  'gray.png',
  'rgba.png',
  'cmyk.jpg',
  'gray16.png',
  'tiny.png',
];

function images(name: string, n: number): string {
  const d = join(dir, name);
  mkdirSync(d);
  for (let k = 0; k < n; k++) copyFileSync(join(FIX, PICTURES[k]!), join(d, `${k}-${PICTURES[k]}`));
  return d;
}

const model = ['--arch', 'v3-small', '--resolution', '32', '--width', '0.5'];

describe('mobilenet export --precision int8: the self-check (issues #21, #22)', () => {
  const live = ['--arch', 'v3-small', '--resolution', '64', '--init', 'fan-in'];

  it('prints SQNR and agreement on this CPU and under emulated AVX2, records them; --verbose lists every layer', {
    timeout: 180_000,
  }, async () => {
    const out = join(dir, 'checked.onnx');
    const r = await run(
      'export',
      ...live,
      '-o',
      out,
      '--precision',
      'int8',
      '--calibrate',
      images('check', 9),
      '--verbose',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/int8 check on 9 calibration images from .*, against fp32 \(portable weights\)/);
    expect(r.err).toMatch(
      /this CPU's kernels \((avx2|avx512|avx512-vnni|avx-vnni|amx|neon|neon-dot|unknown)\) +\d+\.\d dB +\d+\.\d%/,
    );
    expect(r.err).toMatch(/AVX2 without VNNI \(emulated\) +\d+\.\d dB/);
    expect(r.err).toMatch(/worst layer: \S+ \((Conv|Gemm|Mul|Add|GlobalAveragePool): /);
    expect(r.err).toContain('features.4.block.0.0'); // --verbose: the per-layer table
    expect(r.err).not.toContain('warning');
    const meta = summarizeOnnx(readFileSync(out)).metadata;
    expect(JSON.parse(meta['mobilenet.int8']!)).toMatchObject({ target: 'portable', activations: 'uint8' });
    const check = JSON.parse(meta['mobilenet.int8.check']!);
    expect(check.floor).toEqual({ sqnrDb: 15, top1: 0.9 });
    expect(check.avx2.sqnrDb).toBeGreaterThan(25);
    expect(Math.abs(check.cpu.sqnrDb - check.avx2.sqnrDb)).toBeLessThan(1);
    expect(check.cpu.top1Agreement).toBeGreaterThanOrEqual(0.9);
  });

  it('--strict refuses a dead model (seeded: activations near 1e-6), naming the worst layer; nothing is written', {
    timeout: 180_000,
  }, async () => {
    const out = join(dir, 'dead.onnx');
    const r = await run(
      'export',
      ...model,
      '-o',
      out,
      '--precision',
      'int8',
      '--calibrate',
      images('dead', 9),
      '--strict',
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /\(--strict\): expected int8 logits within the floor of fp32's .* below SQNR 15 dB or top-1 agreement 90\.0%; the worst layer is features\.\d+\.block\.\d+\.\S+ \(/,
    );
    expect(existsSync(out)).toBe(false);
    // Without --strict: written, with a warning.
    const w = await run('export', ...model, '-o', out, '--precision', 'int8', '--calibrate', join(dir, 'dead'));
    expect(w.code, w.err).toBe(0);
    expect(w.err).toContain('warning: int8 ');
    expect(existsSync(out)).toBe(true);
  });

  it('--int8-target vnni: recorded, and said to be for VNNI CPUs where emulated AVX2 falls below the floor', {
    timeout: 180_000,
  }, async () => {
    const out = join(dir, 'vnni.onnx');
    const v2 = ['--arch', 'v2', '--resolution', '64', '--init', 'fan-in', '--int8-target', 'vnni'];
    const r = await run('export', ...v2, '-o', out, '--precision', 'int8', '--calibrate', images('vnni', 9));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('(vnni weights)');
    expect(JSON.parse(summarizeOnnx(readFileSync(out)).metadata['mobilenet.int8']!).target).toBe('vnni');
    const check = JSON.parse(summarizeOnnx(readFileSync(out)).metadata['mobilenet.int8.check']!);
    if (check.avx2.sqnrDb < 15) expect(r.err).toContain('this file is for VNNI CPUs: on AVX2 without VNNI it measures');
  });

  it('--int8-target, --strict: values checked; only with --precision int8', async () => {
    const bad = await run(
      'export',
      ...model,
      '-o',
      join(dir, 'x.onnx'),
      '--precision',
      'int8',
      '--int8-target',
      'avx2',
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("option --int8-target: expected one of portable, vnni, received 'avx2'");
    const stray = await run('export', ...model, '-o', join(dir, 'x.onnx'), '--strict');
    expect(stray.code).toBe(2);
    expect(stray.err).toContain('option --strict: expected to be used with --precision int8 only');
  });
});

describe('mobilenet export --precision', () => {
  it('int8 without --calibrate or a cache: exit 2 saying what is needed', async () => {
    const r = await run('export', ...model, '-o', join(dir, 'no.onnx'), '--precision', 'int8');
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'option --precision int8: expected a folder of at least 8 images (--calibrate DIR) or an existing --calibration-cache FILE, received neither --calibrate nor --calibration-cache',
    );
    expect((await run('export', ...model, '-o', join(dir, 'no.onnx'), '--precision', 'int4')).err).toContain(
      "option --precision: expected one of fp32, fp16, int8, received 'int4'",
    );
  });

  it('int8 files: metadata says how they were made; the cache is reused and refused for another model', {
    timeout: 180_000,
  }, async () => {
    const calib = images('calib', 9);
    writeFileSync(join(calib, 'zz-broken.png'), 'not a png');
    const cache = join(dir, 'ranges.json');
    const [fp32, int8, again] = ['fp32', 'int8', 'int8-cached'].map((p) => join(dir, `${p}.onnx`)) as [
      string,
      string,
      string,
    ];
    expect((await run('export', ...model, '-o', fp32)).code).toBe(0);
    const q = await run(
      'export',
      ...model,
      '-o',
      int8,
      '--precision',
      'int8',
      '--calibrate',
      calib,
      '--calibration-method',
      'percentile',
      '--calibration-cache',
      cache,
    );
    expect(q.code, q.err).toBe(0);
    expect(q.err).toContain(`calibration: skipped ${join(calib, 'zz-broken.png')}: cannot decode`);
    const meta = summarizeOnnx(readFileSync(int8)).metadata;
    expect(meta['mobilenet.precision']).toBe('int8');
    expect(JSON.parse(meta['mobilenet.calibration']!)).toEqual({ method: 'percentile', percentile: 99.99, images: 9 });
    expect(statSync(int8).size / statSync(fp32).size).toBeLessThan(0.4); // tiny model: scales and zero points weigh more
    // The cache alone suffices for the same model, and gives the same model (its self-check ran on probes instead).
    const c = await run('export', ...model, '-o', again, '--precision', 'int8', '--calibration-cache', cache);
    expect(c.code, c.err).toBe(0);
    const [a, b] = [fromOnnx(readFileSync(again)).graph, fromOnnx(readFileSync(int8)).graph];
    expect(a.nodes).toEqual(b.nodes);
    expect(a.initializers).toEqual(b.initializers);
    expect(JSON.parse(a.metadata['mobilenet.int8.check']!).inputs).toBe('probe inputs');
    // Another model (another seed): refused, naming both.
    const other = await run(
      'export',
      ...model,
      '--seed',
      '7',
      '-o',
      join(dir, 'other.onnx'),
      '--precision',
      'int8',
      '--calibration-cache',
      cache,
    );
    expect(other.code).toBe(1);
    expect(other.err).toMatch(
      new RegExp(
        `calibration cache '${cache}': expected ranges for model '\\S+' \\(digest [0-9a-f]{16}\\), received ranges made for model '\\S+' \\(digest [0-9a-f]{16}\\)`,
      ),
    );
    // compare: the int8 file against the fp32 one.
    const cmp = await run('compare', fp32, int8, '--images', calib, '--json');
    expect(cmp.code, cmp.err).toBe(0);
    const j = JSON.parse(cmp.out);
    expect(j).toMatchObject({ reference: fp32, candidate: int8, images: 9 });
    for (const k of ['top1Agreement', 'top5Overlap', 'sqnrDb', 'maxAbsDiff'])
      expect(Number.isFinite(j[k]), k).toBe(true);
  });

  // Seeded v4-conv-small keeps its activations in float16's range (v1-v3's torchvision initialisation does not).
  const v4 = ['--arch', 'v4-conv-small', '--resolution', '32', '--width', '0.5'];

  it('fp16: checked on probe inputs, written, metadata says fp16, compare reads it', { timeout: 180_000 }, async () => {
    const [fp32, fp16] = ['v4-fp32', 'v4-fp16'].map((p) => join(dir, `${p}.onnx`)) as [string, string];
    expect((await run('export', ...v4, '-o', fp32)).code).toBe(0);
    const r = await run('export', ...v4, '-o', fp16, '--precision', 'fp16');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^fp16: on 2 probe inputs no overflow, outputs [\d.]+ dB from fp32's on CPU/);
    expect(summarizeOnnx(readFileSync(fp16)).metadata['mobilenet.precision']).toBe('fp16');
    const text = await run('compare', fp32, fp16, '--images', images('fp16-eval', 8));
    expect(text.out).toMatch(/top-1 agreement [\d.]+%, top-5 overlap [\d.]+%\n {2}SQNR [\d.]+ dB, max abs diff/);
  });

  it('fp16 --calibrate DIR: images in the folder join the probes; calibration-only options stay refused', {
    timeout: 180_000,
  }, async () => {
    const probes = images('fp16-probes', 8);
    const out = join(dir, 'v4-fp16-probed.onnx');
    const r = await run('export', ...v4, '-o', out, '--precision', 'fp16', '--calibrate', probes);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`fp16: on 10 probe inputs (8 images from ${probes}) no overflow, outputs `);
    expect(existsSync(out)).toBe(true);
    const method = await run(
      'export',
      ...v4,
      '-o',
      join(dir, 'm.onnx'),
      '--precision',
      'fp16',
      '--calibration-method',
      'minmax',
    );
    expect(method.code).toBe(2);
    expect(method.err).toContain(
      'option --calibration-method: expected to be used with --precision int8 only, received --precision fp16',
    );
    const plain = await run('export', ...v4, '-o', join(dir, 'p.onnx'), '--calibrate', probes);
    expect(plain.code).toBe(2);
    expect(plain.err).toContain(
      'option --calibrate: expected to be used with --precision int8 only, received --precision fp32',
    );
  });

  it('fp16 of a model float16 cannot hold: exit 1 naming the node, no file written', { timeout: 120_000 }, async () => {
    // torchvision's initialisation (the seeded default) makes v2's activations vanish in eval mode: its logits (1e-9)
    // are below float16's smallest value, and the float16 file would answer 0 for every class.
    const out = join(dir, 'vanishing-fp16.onnx');
    const r = await run(
      'export',
      '--arch',
      'v2',
      '--resolution',
      '64',
      '-o',
      out,
      '--precision',
      'fp16',
      '--no-embedding',
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^mobilenet export: --precision fp16 of model 'mobilenet_v2_1_64': expected activations that float16 holds on 2 probe inputs, received node 'logits\.flatten' \(Flatten\) output 'logits' at [\d.]+e-\d+, all below float16 \(3e-8: they round to 0\); float16 outputs [\d.]+ dB from float32's on CPU \(at least 20 dB expected\); the first inner tensor that float16 cannot hold: node '[\w.]+' \(Conv\)/,
    );
    expect(r.err).toContain("(seeded weights (torchvision's initialisation) make activations vanish");
    expect(existsSync(out)).toBe(false);
  });

  it('a calibration folder with fewer than 8 readable images: the error names the folder', {
    timeout: 60_000,
  }, async () => {
    const few = images('few', 2);
    const r = await run('export', ...model, '-o', join(dir, 'few.onnx'), '--precision', 'int8', '--calibrate', few);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`image folder '${few}': expected at least 8 readable images, received 2 of 2 files`);
  });
});

describe('the opset an int8 export gets without --opset', () => {
  it('is 20 for a model with GELU in int8 (onnxruntime fuses GELU after a DequantizeLinear only as one op), else the default', () => {
    const hybrid = buildModel({ arch: 'v4-hybrid-large', resolution: 64 }).graph;
    const conv = buildModel({ arch: 'v4-conv-small', resolution: 64 }).graph;
    expect(hybrid.nodes.some((n) => n.op === 'Gelu')).toBe(true);
    expect(defaultOpset(hybrid, 'int8', 'onnxruntime')).toEqual({
      opset: 20,
      why: 'int8 with GELU: onnxruntime fuses it from opset 20; --opset to choose',
    });
    for (const [g, p] of [
      [hybrid, 'fp32'],
      [hybrid, 'fp16'],
      [conv, 'int8'],
    ] as const)
      expect(defaultOpset(g, p, 'onnxruntime')).toEqual({ opset: DEFAULT_OPSET });
    expect(defaultOpset(hybrid, 'int8', 'opencv')).toEqual({ opset: DEFAULT_OPSET });
  });
});
