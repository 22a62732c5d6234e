import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, 'cli.ts');
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', import.meta.resolve('tsx'), CLI, ...args], { encoding: 'utf8', timeout: 300_000 });

describe('pnpm bench', () => {
  it('--smoke runs every engine kind, validates against CPU, and writes JSON, Markdown and an SVG chart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const r = bench('--smoke', '--backends', 'cpu,cuda,wasm,webgpu,wasm-browser', '--peers', 'ort,tfjs-wasm,tfjs-cpu', '--json', join(dir, 'r.json'), '--md', join(dir, 'r.md'));
    expect(r.stderr).not.toMatch(/mismatch|failed/);
    expect(r.status).toBe(0);
    const out = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(out.machine).toMatchObject({ cores: expect.any(Number), peakGmacs: expect.any(Number), versions: { 'onnxruntime-node': '1.30.0', 'onnxruntime-web': '1.30.0' } });
    const by = Object.fromEntries(out.rows.map((row: { engine: string }) => [row.engine, row]));
    for (const e of ['cpu', 'wasm', 'ort', 'tfjs-wasm', 'tfjs-cpu']) {
      expect(by[e], e).toMatchObject({ arch: 'v3-small', resolution: 96, status: 'ok', p50: expect.any(Number), gmacs: expect.any(Number), peakRssMiB: expect.any(Number) });
      expect(by[e].maxRelDiff, e).toBeLessThan(1e-3);
    }
    expect(by.cpu.overhead).toEqual(expect.any(Number));
    // No CUDA libraries here: listed as skipped with the reason, and the rest of the matrix still ran.
    expect(by.cuda).toMatchObject({ status: 'skipped', reason: expect.stringContaining('cuda') });
    // WebGPU runs in headless Chromium through the demo's code (SwiftShader here), or says why it cannot.
    expect(['ok', 'skipped']).toContain(by.webgpu.status);
    expect(['ok', 'skipped']).toContain(by['wasm-browser'].status);
    if (process.env.CI) expect([by.webgpu.status, by['wasm-browser'].status]).toEqual(['ok', 'ok']);
    expect(r.stdout).toMatch(/arch\s+width\s+res\s+params\s+MACs\s+engine\s+threads\s+batch\s+p50 ms/);
    expect(r.stdout).toContain('our wrapper vs bare run() on the same onnxruntime session');
    expect(r.stdout).toMatch(/onnxruntime-web wasm with 1 thread\(s\) is [\d.]+x as fast as tfjs-wasm/);
    expect(readFileSync(join(dir, 'r.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<circle[\s\S]*<\/svg>$/);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toContain('| arch | width | res |');
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [['--archs', 'v4'], "bench: option --archs: 'v4' is not one of v1, v2, v3-large, v3-small"],
    [['--backends', 'tpu'], "bench: option --backends: 'tpu' is not one of cpu, cuda, wasm, webgpu, wasm-browser"],
    [['--peers', 'pytorch'], "bench: option --peers: 'pytorch' is not one of ort, tfjs-wasm, tfjs-cpu"],
    [['--resolutions', '100'], "bench: option --resolutions: '100' is not a multiple of 32"],
    [['--widths', '0'], "bench: option --widths: '0' is not a width in (0, 4]"],
    [['--frobnicate'], "bench: Unknown option '--frobnicate'"],
  ])('%j exits 2 naming the allowed values', (args, message) => {
    const r = bench(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')[0]).toContain(message);
  });

  it('--help', () => {
    const r = bench('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: pnpm bench');
    expect(existsSync(CLI)).toBe(true);
  });
});
