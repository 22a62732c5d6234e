import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { analyze, buildModel } from '@mobilenet/core';
import { availableBackends } from '@mobilenet/runtime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { skipUnless } from '@mobilenet/test-support';
import { STEP_TIMEOUT_MS } from '../../../vitest.shared.js';
import { browserUnavailable } from './browser.js';
import { main } from './cli.js';
import type { Peak } from './peak.js';
import { type Row, overheadWords, speedWords } from './report.js';

const CLI = join(import.meta.dirname, 'cli.ts');
/** `pnpm bench` as a user runs it: its own process, so the exit code and the files are the program's. */
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', import.meta.resolve('tsx'), CLI, ...args], {
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
  });

const dirs: string[] = [];
afterAll(() =>
  dirs.forEach((d) => {
    rmSync(d, { recursive: true, force: true });
  }),
);
function smoke(...args: string[]) {
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-'));
  dirs.push(dir);
  const r = bench('--smoke', ...args, '--json', join(dir, 'r.json'), '--md', join(dir, 'r.md'));
  const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as {
    machine: { cpu: string; cores: number; versions: Record<string, string> };
    peaks: Peak[];
    peaksBefore: Peak[];
    peaksAfter: Peak[];
    warnings: string[];
    rows: Row[];
  };
  const file = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    ...r,
    dir,
    json,
    by: Object.fromEntries(json.rows.map((row) => [row.engine, row])) as Record<string, Row>,
    file,
  };
}

// The smoke model: v3-small at 32x32. torchvision's mobilenet_v3_small has 2,542,856 parameters at any size.
const SMOKE = { arch: 'v3-small', width: 1, resolution: 32, batch: 1 } as const;
const smokeMacs = analyze(buildModel({ ...SMOKE, convention: 'torchvision', weights: null }).graph).macs;

/** What every timed row must satisfy: its own numbers agree with each other and with the model. */
function expectSaneTiming(row: Row, maxRelDiff = 1e-3) {
  const e = row.engine;
  expect(row, e).toMatchObject({ ...SMOKE, status: 'ok', params: 2_542_856, macs: smokeMacs, threads: 1 });
  expect(row.p50!, e).toBeGreaterThan(0);
  expect(row.p90!, e).toBeGreaterThanOrEqual(row.p50!);
  // Throughput over the timed window: the smoke's 3 runs over their wall time, at most the fastest run's rate.
  expect(row.windowMs!, e).toBeGreaterThan(0);
  expect(row.imagesPerSecond!, e).toBeCloseTo(3000 / row.windowMs!, 6);
  expect(row.gmacs!, e).toBeCloseTo(smokeMacs / row.p50! / 1e6, 6);
  expect(row.maxRelDiff!, e).toBeGreaterThanOrEqual(0);
  expect(row.maxRelDiff!, e).toBeLessThan(maxRelDiff);
}

describe('pnpm bench', () => {
  it('--smoke on every Node engine: validated against CPU, measured peak, sane rows in JSON, Markdown, SVG and the table', async () => {
    const cuda = (await availableBackends()).find((b) => b.backend === 'cuda')!;
    const r = smoke('--backends', 'cpu,cuda,wasm', '--peers', 'ort,tfjs-wasm,tfjs-cpu');
    expect(r.stderr).not.toMatch(/mismatch|failed/);
    expect(r.status).toBe(0);
    const { machine, peaks, rows } = r.json;
    expect(machine).toMatchObject({
      cores: os.cpus().length,
      versions: { 'onnxruntime-node': '1.30.0', 'onnxruntime-web': '1.30.0' },
    });

    // The peak is measured (a 512^3 Gemm in smoke runs), one per thread count the CPU rows use, before and after
    // the rows; shares are against the higher of the two, and a drift or a busy machine is said.
    expect(peaks.map((p) => [p.threads, p.shape])).toEqual([[1, [512, 512, 512]]]);
    const peak = peaks[0]!;
    const [before, after] = [r.json.peaksBefore[0]!, r.json.peaksAfter[0]!];
    expect(peak.gmacs).toBe(Math.max(before.gmacs, after.gmacs));
    expect(r.json.warnings).toEqual(expect.any(Array));
    for (const w of r.json.warnings) expect(r.stderr).toContain(`bench: not a quiet run: ${w}`);
    expect(r.stdout).toMatch(r.json.warnings.length ? /\nNOT a quiet run/ : /\nQuiet run:/);
    expect(peak.ms).toBeGreaterThan(0);
    expect(peak.gmacs).toBeCloseTo(512 ** 3 / peak.ms / 1e6, 6);

    const timed = ['cpu', 'wasm', 'ort', 'tfjs-wasm', 'tfjs-cpu', ...(cuda.available ? ['cuda'] : [])];
    for (const e of timed) expectSaneTiming(r.by[e]!);
    for (const e of ['cpu', 'wasm', 'ort', 'tfjs-wasm', 'tfjs-cpu']) {
      const row = r.by[e]!;
      // Against the measured peak at the same thread count; no engine beats a large Gemm. That holds only when
      // nothing else shares the cores: under load the peak and the cell are timed at different moments of it (a
      // busy core during this test once gave ort 1.09 of a depressed peak), and the run says it was not quiet.
      expect(row.peakShare!, e).toBeCloseTo(row.gmacs! / peak.gmacs, 9);
      if (r.json.warnings.length === 0) expect(row.peakShare!, e).toBeLessThan(1);
      else expect(row.peakShare!, e).toBeGreaterThan(0);
      // A Node process with onnxruntime or tfjs loaded: tens to hundreds of MiB.
      expect(row.peakRssMiB!, e).toBeGreaterThan(50);
      expect(row.peakRssMiB!, e).toBeLessThan(4096);
    }
    // The wrapper's overhead: a median over 100 interleaved pairs on one session, small against the run itself.
    expect(r.by.cpu).toMatchObject({ pairs: 100, bareP50: expect.any(Number), overhead: expect.any(Number) });
    expect(Math.abs(r.by.cpu!.overhead!)).toBeLessThan(1);
    if (!cuda.available)
      expect(r.by.cuda).toMatchObject({
        status: 'skipped',
        reason: expect.stringContaining(cuda.reason!.split(':')[0]!),
      });

    // The table, the Markdown and the chart show the same rows and numbers.
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) =>
      /^arch\s+width\s+res\s+params\s+MACs\s+engine\s+threads\s+batch\s+p50 ms/.test(l),
    );
    expect(head).toBeGreaterThanOrEqual(0);
    const tableRows = lines.slice(head + 1, head + 1 + rows.length).map((l) => l.split(/\s{2,}/));
    expect(tableRows.map((c) => c[5])).toEqual(rows.map((x) => x.engine));
    for (const e of timed) expect(lines.find((l) => l.includes(` ${e} `))!).toContain(` ${r.by[e]!.p50!.toFixed(2)} `);
    const cpu = r.by.cpu!;
    expect(r.stdout).toContain(`${overheadWords(cpu.overhead!)}: median of 100 interleaved pairs`);
    expect(r.stdout).toContain(
      `p50 ${cpu.p50!.toFixed(2)} ms ours (cpu row) vs ${r.by.ort!.p50!.toFixed(2)} ms for the ort peer`,
    );
    expect(r.stdout).toContain(
      `onnxruntime-web wasm with 1 thread(s) is ${speedWords(r.by['tfjs-wasm']!.p50! / r.by.wasm!.p50!, 'tfjs-wasm')}`,
    );
    expect(r.stdout).toContain(
      `measured fp32 peak: 1 thread(s) ${peak.gmacs.toFixed(1)} GMAC/s (${(2 * peak.gmacs).toFixed(1)} GFLOP/s; Gemm 512x512 by 512x512`,
    );
    const md = r.file('r.md');
    expect(md).toContain('| arch | width | res |');
    expect(md.split('\n').filter((l) => l.startsWith('| v3-small |'))).toHaveLength(rows.length);
    expect(md).toContain("% peak = GMAC/s / the measured fp32 peak at the row's thread count");
    // The chart, beside the JSON, says where it went and names the machine measured.
    const svg = r.file('r.svg');
    expect(r.stderr).toContain(`wrote the chart (p50 latency vs MACs, SVG): ${join(r.dir, 'r.svg')}`);
    expect(svg).toMatch(/^<svg[\s\S]*<\/svg>$/);
    expect(svg).toContain(`MobileNet p50 latency vs MACs: ${machine.cpu}, ${machine.cores} cores`);
    expect(svg.match(/class="point"/g)).toHaveLength(timed.length);
  });

  it('--precisions fp32,fp16,int8: files on disk, sizes, paired speedups and SQNR, the same in table, JSON and Markdown', () => {
    // Calibration images: runtime-node's decoding fixtures (photographs and graphics; at least 8 are needed).
    const images = mkdtempSync(join(os.tmpdir(), 'bench-calib-'));
    dirs.push(images);
    const fixtures = join(import.meta.dirname, '../../../packages/runtime-node/test/fixtures');
    const names = ['cmyk.jpg', 'gray.png', 'gray16.png', 'rgba.png', 'scene.jpg', 'scene.png', 'tall.png', 'tiny.png'];
    for (const f of names) copyFileSync(join(fixtures, f), join(images, f));
    const models = join(images, 'models');
    mkdirSync(models);
    const r = smoke('--precisions', 'fp32,fp16,int8', '--peers', 'none', '--calibrate', images, '--model-dir', models);
    expect(r.stderr).not.toMatch(/mismatch|failed/);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`int8 calibrated on 8 images from ${images} (percentile)`);
    const rows = r.json.rows;
    expect(rows.map((x) => `${x.engine} ${x.precision}`)).toEqual([
      'cpu fp32',
      'cpu fp16',
      'cpu int8',
      'wasm fp32',
      'wasm fp16',
      'wasm int8',
    ]);
    for (const row of rows) {
      const at = `${row.engine} ${row.precision}`;
      // int8 is held to its SQNR against fp32 instead (status ok says it passed; see rows.test.ts).
      expectSaneTiming(row, row.precision === 'int8' ? Infinity : 1e-3);
      // The size reported is the file's on disk, and the file is the model of this row.
      expect(row.file, at).toBe(join(models, `v3-small-w1-r32-b1-${row.precision}.onnx`));
      expect(row.fileBytes, at).toBe(statSync(row.file!).size);
      expect(row.rounds, at).toBe(3);
    }
    for (const engine of ['cpu', 'wasm']) {
      const [fp32, fp16, int8] = rows.filter((x) => x.engine === engine);
      // fp16 halves the weights, int8 quarters them (plus scales, zero points and int32 biases).
      expect(fp16!.fileBytes!).toBeLessThan(fp32!.fileBytes!);
      expect(int8!.fileBytes!).toBeLessThan(fp16!.fileBytes!);
      expect(fp16!.sizeRatio!).toBeGreaterThan(0.45);
      expect(fp16!.sizeRatio!).toBeLessThan(0.55);
      expect(int8!.sizeRatio!).toBeGreaterThan(0.2);
      expect(int8!.sizeRatio!).toBeLessThan(0.35);
      for (const row of [fp32!, fp16!, int8!]) {
        expect(row.sizeRatio!).toBeCloseTo(row.fileBytes! / fp32!.fileBytes!, 12);
        // Speedups are ratios of the p50s timed in the same alternating rounds.
        expect(row.speedup!).toBeCloseTo(fp32!.p50! / row.p50!, 9);
        expect(row.pairedSpeedup!).toBeGreaterThan(0);
      }
      expect(fp32!.speedup).toBe(1);
      // The fp32 peak's share on fp32 rows only; SQNR against fp32's logits on the others: close, not equal.
      expect(fp32!.peakShare).toBeGreaterThan(0);
      expect(fp16!.peakShare).toBeUndefined();
      expect(fp32!.sqnr).toBeUndefined();
      expect(fp16!.sqnr!).toBeGreaterThan(40);
      expect(int8!.sqnr!).toBeGreaterThan(15);
      expect(int8!.sqnr!).toBeLessThan(fp16!.sqnr!);
    }

    // The table, the Markdown and the ratio lines show the JSON's numbers.
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) =>
      /^arch\s+width\s+res\s+params\s+MACs\s+engine\s+threads\s+batch\s+precision\s+size MB\s+% fp32\s+speedup\s+p50 ms/.test(
        l,
      ),
    );
    expect(head).toBeGreaterThanOrEqual(0);
    const md = r.file('r.md');
    const mdRows = md.split('\n').filter((l) => l.startsWith('| v3-small |'));
    expect(mdRows).toHaveLength(rows.length);
    rows.forEach((row, k) => {
      const shown = [
        row.engine,
        String(row.threads),
        '1',
        row.precision!,
        (row.fileBytes! / 1e6).toFixed(2),
        `${(100 * row.sizeRatio!).toFixed(1)}%`,
        `${row.speedup!.toFixed(2)}x`,
        row.p50!.toFixed(2),
        row.p90!.toFixed(2),
        row.imagesPerSecond!.toFixed(1),
      ];
      expect(lines[head + 1 + k]!.split(/\s{2,}/).slice(5, 15)).toEqual(shown);
      expect(mdRows[k]!.split(' | ').slice(5, 15)).toEqual(shown);
      if (row.precision === 'fp32') return;
      // int8 on CPU names the CPU's int8 kernel path (issue #21).
      const kernels = row.int8Kernels ? ` on ${row.int8Kernels} int8 kernels` : '';
      if (row.precision === 'int8' && row.engine === 'cpu') expect(row.int8Kernels).toMatch(/^(amx|avx|neon|unknown)/);
      const line = `v3-small 1/32 b1 ${row.engine} x1: ${row.precision}${kernels} is ${speedWords(row.speedup!, 'fp32')} (p50 ${row.p50!.toFixed(2)} vs ${(row.p50! * row.speedup!).toFixed(2)} ms, 3 alternating rounds), file ${(100 * row.sizeRatio!).toFixed(1)}% of fp32`;
      expect(r.stdout).toContain(line);
      expect(md).toContain(`- ${line}`);
    });
    expect(md).toContain('size MB = the .onnx file');
    expect(r.stdout).toMatch(/load average \(1 min\) \d+\.\d\d at the start, \d+\.\d\d at the end, on \d+ cores/);
    // One chart point per row; a series per engine and precision.
    expect(r.file('r.svg').match(/class="point"/g)).toHaveLength(rows.length);
    expect(r.file('r.svg')).toContain('cpu x1 int8');
  });

  const noBrowser = skipUnless('Chromium for the browser engines', browserUnavailable());
  it.skipIf(noBrowser !== null)(
    `--smoke on the browser engines (the demo's code in headless Chromium) ${noBrowser ? `(skipped: ${noBrowser})` : ''}`,
    (ctx) => {
      const r = smoke('--backends', 'webgpu,wasm-browser', '--peers', 'none');
      expect(r.stderr).not.toMatch(/mismatch|failed/);
      expect(r.status).toBe(0);
      expect(r.json.rows.map((x) => x.engine)).toEqual(['webgpu', 'wasm-browser']);
      expectSaneTiming(r.by['wasm-browser']!);
      // No share of the CPU's peak for a GPU engine; none for the browser's WASM either when no peak was measured.
      const webgpu = r.by.webgpu!;
      const skip = skipUnless(
        "WebGPU in Chromium (SwiftShader's adapter in CI)",
        webgpu.status === 'skipped' ? webgpu.reason! : null,
      );
      if (skip) return ctx.skip(skip);
      expectSaneTiming(webgpu);
      expect(webgpu.peakShare).toBeUndefined();
    },
  );

  // Usage is checked in-process (main with its own output): a process per case costs seconds on a busy machine.
  const run = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false });
    return { code, out, err };
  };

  it.each([
    [
      ['--archs', 'v4'],
      "bench: option --archs: 'v4' is not one of v1, v2, v3-large, v3-small, v4-conv-small, v4-conv-medium, v4-conv-large, v4-hybrid-medium, v4-hybrid-large",
    ],
    [['--backends', 'tpu'], "bench: option --backends: 'tpu' is not one of cpu, cuda, wasm, webgpu, wasm-browser"],
    [['--peers', 'pytorch'], "bench: option --peers: 'pytorch' is not one of ort, tfjs-wasm, tfjs-cpu"],
    [['--resolutions', '100'], "bench: option --resolutions: '100' is not a multiple of 32"],
    [['--widths', '0'], "bench: option --widths: '0' is not a width in (0, 4]"],
    [['--frobnicate'], "bench: Unknown option '--frobnicate'"],
    [['--precisions', 'fp32,bf16'], "bench: option --precisions: 'bf16' is not one of fp32, fp16, int8"],
    [['--precisions', 'none'], "bench: option --precisions: 'none' is not one of fp32, fp16, int8"],
    [
      ['--precisions', 'fp32,fp16', '--calibrate', '.'],
      'bench: option --calibrate: calibrates int8 files; expected --precisions with int8 as well',
    ],
    [
      ['--precisions', 'int8', '--calibrate', '/no/such/folder'],
      "bench: option --calibrate: '/no/such/folder' is not a folder",
    ],
    [['--render', '/no/such/run.json'], "bench: option --render: '/no/such/run.json' is not a file"],
  ])('%j exits 2 naming the allowed values', async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')[0]).toContain(message);
  });

  it('--help says what --smoke is and lists every engine', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: pnpm bench/);
    expect(r.out).toContain('--smoke            a seconds-long run');
    expect(r.out).toContain('--precisions fp32,fp16,int8');
    for (const e of ['cpu', 'cuda', 'wasm', 'webgpu', 'wasm-browser', 'ort', 'tfjs-wasm', 'tfjs-cpu'])
      expect(r.out).toContain(e);
  });
});
