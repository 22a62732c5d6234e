import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { availableBackends } from '@mobilenet/runtime-node';
import { maxAbs, maxAbsDiff } from '@mobilenet/test-support';
import { main } from './index.js';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTty: false });
  return { code, out, err };
}

const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'mobilenet-cli-'));
  made.push(dir);
  return dir;
};
afterAll(() =>
  made.forEach((d) => {
    rmSync(d, { recursive: true, force: true });
  }),
);

describe('mobilenet info', () => {
  it('prints an aligned per-layer table and totals', async () => {
    const r = await run('info', '--arch', 'v2', '--convention', 'torchvision');
    expect(r.code).toBe(0);
    expect(r.out).toContain('params 3,504,872 (3.50 M), MACs 300,774,272 (300.8 M)');
    const rows = r.out.split('\n').filter((l) => l.startsWith('features.'));
    expect(new Set(rows.map((l) => l.length)).size).toBeLessThanOrEqual(2); // aligned columns
  });

  it('--json has arch, width, resolution, params, macs and layers', async () => {
    const r = await run('info', '--arch', 'v3-small', '--width', '0.75', '--resolution', '160', '--json');
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ arch: 'v3-small', width: 0.75, resolution: 160 });
    expect(j.layers[0]).toEqual({
      name: 'features.0.0',
      op: 'Conv',
      outputShape: [1, 16, 80, 80],
      params: 432,
      macs: 2_764_800,
    });
    expect(j.params).toBe(j.layers.reduce((a: number, l: { params: number }) => a + l.params, 0));
    expect(j.macs).toBe(j.layers.reduce((a: number, l: { macs: number }) => a + l.macs, 0));
  });

  it('analyses an ONNX file, with the same numbers as the model it came from', async () => {
    const dir = tmp();
    const file = join(dir, 'm.onnx');
    expect((await run('export', '--arch', 'v1', '--width', '0.5', '-o', file)).code).toBe(0);
    const fromFile = JSON.parse((await run('info', file, '--json')).out);
    const fromArch = JSON.parse((await run('info', '--arch', 'v1', '--width', '0.5', '--json')).out);
    expect(fromFile).toMatchObject({
      arch: 'v1',
      width: 0.5,
      resolution: 224,
      params: fromArch.params,
      macs: fromArch.macs,
    });
  });

  it('summarizes a foreign file whose ops it cannot analyse', async () => {
    const dir = tmp();
    const file = join(dir, 'm.onnx');
    await run('export', '--arch', 'v3-small', '--resolution', '64', '-o', file);
    const foreign = join(dir, 'foreign.onnx');
    writeFileSync(
      foreign,
      Buffer.from(readFileSync(file).toString('latin1').replaceAll('HardSwish', 'HardSwizz'), 'latin1'),
    );
    const r = await run('info', foreign);
    expect(r.code).toBe(0);
    expect(r.out).toContain('unsupported ops HardSwizz');
    expect(r.out).toMatch(/HardSwizz \d+/);
  });

  it('a file that is not ONNX is a failure naming the file', async () => {
    const dir = tmp();
    const file = join(dir, 'notes.onnx');
    writeFileSync(file, 'hello');
    const r = await run('info', file);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}: expected an ONNX`);
  });
});

describe('mobilenet export', () => {
  it('writes a deterministic file, refuses to overwrite without --force, leaves no temporary file', async () => {
    const dir = tmp();
    const a = join(dir, 'a.onnx');
    const b = join(dir, 'b.onnx');
    expect((await run('export', '--arch', 'v3-small', '--seed', '3', '-o', a)).code).toBe(0);
    expect((await run('export', '--arch', 'v3-small', '--seed', '3', '-o', b)).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const before = readFileSync(a);
    const r = await run('export', '--arch', 'v2', '-o', a);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`mobilenet export: option -o: '${a}' exists; pass --force to overwrite it\n`);
    expect(readFileSync(a).equals(before)).toBe(true);
    expect((await run('export', '--arch', 'v2', '-o', a, '--force')).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['a.onnx', 'b.onnx']);
  });

  it('--batch dynamic and --opset 13', async () => {
    const dir = tmp();
    const file = join(dir, 'm.onnx');
    expect((await run('export', '--arch', 'v3-small', '--batch', 'dynamic', '--opset', '13', '-o', file)).code).toBe(0);
    const j = JSON.parse((await run('info', file, '--json')).out);
    expect(j.opset).toBe(13);
    expect(j.layers.some((l: { op: string }) => l.op === 'HardSwish')).toBe(false);
  });

  it.each([
    [['--arch', 'v2', '--width', '0'], "option --width: expected a number from 0.05 to 4, received '0'"],
    [['--arch', 'v2', '--width', 'NaN'], "option --width: expected a number from 0.05 to 4, received 'NaN'"],
    [['--arch', 'v2', '--width', '5'], "option --width: expected a number from 0.05 to 4, received '5'"],
    [
      ['--arch', 'v2', '--resolution', '100'],
      "option --resolution: expected a multiple of 32 from 32 to 1024, received '100'",
    ],
    [['--arch', 'v2', '--classes', '0'], "option --classes: expected an integer from 1 to 32768, received '0'"],
    [
      ['--arch', 'v9'],
      "option --arch: expected one of v1, v2, v3-large, v3-small, v4-conv-small, v4-conv-medium, v4-conv-large, v4-hybrid-medium, v4-hybrid-large, ssdlite320-v3-large, lraspp-v3-large, deeplabv3-v3-large, received 'v9'",
    ],
    [
      ['--arch', 'v1', '--minimalistic'],
      'option --minimalistic: expected --arch v3-large or v3-small, received --arch v1',
    ],
    [['--arch', 'v2', '--frobnicate'], 'option --frobnicate: unknown; see --help for the options'],
    [['--arch', 'v2', '--opset', '12'], "option --opset: expected an integer from 13 to 21, received '12'"],
    [
      ['--arch', 'v2', '--batch', '0'],
      "option --batch: expected an integer from 1 to 65536 or 'dynamic', received '0'",
    ],
  ])('%j exits 2 with one line', async (args, message) => {
    const dir = tmp();
    const r = await run('export', ...args, '-o', join(dir, 'm.onnx'));
    expect(r.code).toBe(2);
    expect(r.err).toBe(`mobilenet export: ${message}\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an output path in a missing folder exits 2 naming the folder', async () => {
    const r = await run('export', '--arch', 'v2', '-o', '/nonexistent-dir/m.onnx');
    expect(r).toMatchObject({
      code: 2,
      err: "mobilenet export: option -o: folder '/nonexistent-dir' does not exist (create it first)\n",
    });
  });
});

const FIX = resolve(import.meta.dirname, '../../runtime-node/test/fixtures');

const TIMM = resolve(import.meta.dirname, '../../core/test/fixtures/timm/mobilenetv3_small_050.safetensors');

describe('mobilenet export --weights', () => {
  it('loads a timm checkpoint (auto-detected, said), folds BN, and the file gives the same logits', async () => {
    const dir = tmp();
    const plain = join(dir, 'plain.onnx');
    const folded = join(dir, 'folded.onnx');
    const base = [
      'export',
      '--arch',
      'v3-small',
      '--width',
      '0.5',
      '--convention',
      'timm',
      '--resolution',
      '96',
      '--weights',
      TIMM,
    ];
    const r = await run(...base, '-o', plain);
    expect(r.code).toBe(0);
    expect(r.err).toContain('has timm (found conv_stem.weight) keys');
    expect((await run(...base, '--fold-bn', '--weights-format', 'timm', '-o', folded)).code).toBe(0);
    const a = JSON.parse((await run('info', plain, '--json')).out);
    const b = JSON.parse((await run('info', folded, '--json')).out);
    expect(a.layers.filter((l: { op: string }) => l.op === 'BatchNormalization').length).toBe(34);
    expect(b.layers.filter((l: { op: string }) => l.op === 'BatchNormalization').length).toBe(0);
    expect(b.macs).toBe(a.macs);
    const ort = await import('onnxruntime-node');
    const x = new ort.Tensor(
      'float32',
      new Float32Array(3 * 96 * 96).map((_, i) => Math.sin(i)),
      [1, 3, 96, 96],
    );
    const [ya, yb] = await Promise.all(
      [plain, folded].map(
        async (f) => (await (await ort.InferenceSession.create(f)).run({ input: x })).logits!.data as Float32Array,
      ),
    );
    expect(maxAbsDiff(ya!, yb!) / maxAbs(ya!)).toBeLessThan(1e-5);
  });

  it('a checkpoint for another architecture, a missing file, a bad format: clear errors and no file left', async () => {
    const dir = tmp();
    const out = join(dir, 'm.onnx');
    const wrong = await run('export', '--arch', 'v2', '--weights', TIMM, '-o', out);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(
      /mobilenetv3_small_050\.safetensors: expected the 262 timm keys of v2 width 1, received \d+ missing/,
    );
    expect(await run('export', '--arch', 'v2', '--weights', join(dir, 'nope.pth'), '-o', out)).toMatchObject({
      code: 2,
      err: expect.stringContaining(`option --weights: file '${join(dir, 'nope.pth')}' does not exist`),
    });
    expect(
      (await run('export', '--arch', 'v2', '--weights', TIMM, '--weights-format', 'keras', '-o', out)).err,
    ).toContain("option --weights-format: expected one of torchvision, timm, auto, received 'keras'");
    expect(readdirSync(dir)).toEqual([]);
  });
});

// CUDA is optional (CI has no GPU): whichever state this machine is in, one of the two CUDA tests runs.
const cuda = (await availableBackends()).find((b) => b.backend === 'cuda')!;

describe('mobilenet classify', () => {
  it('classifies images with an exported model; one bad image is reported by name, the rest answered', async () => {
    const dir = tmp();
    const model = join(dir, 'm.onnx');
    await run(
      'export',
      '--arch',
      'v3-small',
      '--resolution',
      '96',
      '--convention',
      'torchvision',
      '--init',
      'fan-in',
      '--batch',
      'dynamic',
      '-o',
      model,
    );
    const imgs = ['scene.png', 'truncated.jpg', 'tall.png'].map((f) => join(FIX, f));
    const r = await run('classify', ...imgs, '--model', model, '--top', '3', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.map((x: { image: string; ok: boolean }) => [x.image, x.ok])).toEqual([
      [imgs[0], true],
      [imgs[1], false],
      [imgs[2], true],
    ]);
    expect(j[0].top).toHaveLength(3);
    expect(j[0].top[0]).toEqual({
      index: expect.any(Number),
      label: expect.any(String),
      probability: expect.any(Number),
    });
    expect(r.err).toContain(`${imgs[1]}: cannot decode`);
    const table = await run('classify', imgs[0]!, '--model', model, '--top', '2');
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^image\s+#\s+prob\s+class\s+label$/);
    expect(table.out).toContain(j[0].top[0].label);
  });

  it('usage errors exit 2 with one line naming the option', async () => {
    const img = join(FIX, 'scene.png');
    expect(await run('classify', img, '--arch', 'v3-small', '--backend', 'tpu')).toMatchObject({
      code: 2,
      err: "mobilenet classify: option --backend: expected one of cpu, cuda, webgpu, received 'tpu'\n",
    });
    expect((await run('classify', '--arch', 'v3-small')).code).toBe(2);
    expect((await run('classify', img)).err).toContain(
      'option --model/--arch: expected exactly one of --model FILE.onnx or --arch A, received neither',
    );
    expect((await run('classify', img, '--arch', 'v2', '--top', '0')).code).toBe(2);
  });

  // Which CUDA test runs depends on whether a CUDA session actually starts here (availableBackends tries one).
  it.skipIf(cuda.available)(
    `--backend cuda without CUDA exits 1 with the reason, or falls back when asked ${cuda.available ? '(skipped: CUDA works here, the next test runs)' : ''}`,
    async () => {
      const img = join(FIX, 'scene.png');
      const r = await run('classify', img, '--arch', 'v3-small', '--resolution', '64', '--backend', 'cuda');
      expect(r.code).toBe(1);
      expect(r.err).toContain(`mobilenet classify: CUDA is not available here: ${cuda.reason!.split(':')[0]}`);
      const fb = await run(
        'classify',
        img,
        '--arch',
        'v3-small',
        '--resolution',
        '64',
        '--backend',
        'cuda',
        '--fallback',
        '--json',
      );
      expect(fb.code).toBe(0);
      expect(fb.err).toMatch(/using cpu: .*cuda/);
      expect(JSON.parse(fb.out)[0]).toMatchObject({ ok: true });
    },
  );

  it.skipIf(!cuda.available)(
    `--backend cuda classifies on CUDA with the top-5 CPU gives ${cuda.available ? '' : `(skipped: CUDA unavailable: ${cuda.reason})`}`,
    async () => {
      const dir = tmp();
      const model = join(dir, 'm.onnx');
      await run(
        'export',
        '--arch',
        'v3-small',
        '--resolution',
        '96',
        '--convention',
        'torchvision',
        '--init',
        'fan-in',
        '-o',
        model,
      );
      const img = join(FIX, 'scene.png');
      const gpu = await run('classify', img, '--model', model, '--backend', 'cuda', '--json');
      const cpu = await run('classify', img, '--model', model, '--json');
      expect([gpu.code, gpu.err]).toEqual([0, '']);
      const top = (r: { out: string }) => (JSON.parse(r.out)[0].top as { index: number }[]).map((t) => t.index);
      expect(top(gpu)).toEqual(top(cpu));
    },
  );
});

describe('mobilenet backends', () => {
  it('lists cpu, cuda and webgpu with the reason for each one that cannot run', async () => {
    const r = await run('backends', '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as { backend: string; available: boolean; reason?: string }[];
    expect(list.map((b) => b.backend)).toEqual(['cpu', 'cuda', 'webgpu']);
    expect(list[0]).toMatchObject({ backend: 'cpu', available: true });
    for (const b of list) if (!b.available) expect(b.reason, b.backend).toMatch(/\S/);
    const text = (await run('backends')).out;
    expect(text).toMatch(/^cpu {5}available$/m);
    // The int8 kernel path, as /proc/cpuinfo's flags give it (issue #21).
    const flags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
    const path = /\bamx_int8\b/.test(flags)
      ? 'amx'
      : /\bavx512_vnni\b/.test(flags)
        ? 'avx512-vnni'
        : /\bavx_vnni\b/.test(flags)
          ? 'avx-vnni'
          : /\bavx512bw\b/.test(flags)
            ? 'avx512'
            : /\bavx2\b/.test(flags)
              ? 'avx2'
              : undefined;
    if (path && process.arch === 'x64') {
      expect((list[0] as { int8?: { path: string } }).int8?.path).toBe(path);
      expect(text).toMatch(new RegExp(`^int8 on cpu: ${path}: `, 'm'));
    }
  });
});

describe('the mobilenet binary', () => {
  it('--help on every command', async () => {
    const top = await run('--help');
    expect(top).toMatchObject({ code: 0, out: expect.stringContaining('Usage: mobilenet <command>') });
    for (const c of ['info', 'export', 'classify', 'compare', 'backends']) {
      const r = await run(c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.out, c).toContain(`Usage: mobilenet ${c}`);
    }
  });

  it('the process exits with the code main returns, and prints its error on stderr', () => {
    // One process is enough to prove bin.ts's wiring; the commands themselves are tested in-process above.
    const root = resolve(import.meta.dirname, '../../..');
    const r = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', import.meta.resolve('tsx'), join(root, 'packages/cli/src/bin.ts'), 'launch'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "mobilenet: unknown command 'launch'; expected one of info, export, classify, compare, backends, embed, detect, segment, profile, serve, worker, queue, weights, train\n",
    );
  });
});
