import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { outputPaths } from './output.js';

const dir = mkdtempSync(join(os.tmpdir(), 'bench-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = async (...argv: string[]) => {
  let err = '';
  const code = await main(argv, { out: () => {}, err: (t) => void (err += t), isTTY: false });
  return { code, err };
};

describe('where a run writes', () => {
  it('without --json or --svg: its chart and JSON in bench-results/, so the quick start leaves a chart too', () => {
    expect(outputPaths({})).toEqual({ json: 'bench-results/latest.json', svg: 'bench-results/latest.svg' });
    expect(outputPaths({ json: 'out/r.json', md: 'out/r.md' })).toEqual({
      json: 'out/r.json',
      svg: 'out/r.svg',
      md: 'out/r.md',
    });
    expect(outputPaths({ svg: 'c.svg' })).toEqual({ svg: 'c.svg' });
  });

  it("--render rewrites the chart and the table from an earlier run's JSON (here an older one, without the window)", async () => {
    const json = join(dir, 'old.json');
    const row = { arch: 'v2', width: 1, resolution: 224, batch: 1, runs: 30, warmup: 5, engine: 'cpu', threads: 2 };
    const results = {
      machine: { cpu: 'Some CPU', cores: 2, memoryGiB: 8, os: 'Linux', node: 'v20', versions: {} },
      peaks: [{ threads: 2, gmacs: 100, shape: [1024, 1024, 1024], runs: 10, ms: 10.7 }],
      options: {},
      rows: [{ ...row, params: 3.5e6, macs: 3e8, status: 'ok', p50: 5, p90: 6, imagesPerSecond: 200, gmacs: 60 }],
    };
    writeFileSync(json, JSON.stringify(results));
    const r = await run('--render', json, '--md', join(dir, 'old.md'));
    expect(r.code).toBe(0);
    expect(r.err).toContain(`wrote the chart (p50 latency vs MACs, SVG): ${resolve(dir, 'old.svg')}`);
    expect(readFileSync(join(dir, 'old.svg'), 'utf8')).toContain('MobileNet p50 latency vs MACs: Some CPU, 2 cores');
    expect(readFileSync(join(dir, 'old.md'), 'utf8')).toContain('| img/s (1000/p50) |');
  });
});
