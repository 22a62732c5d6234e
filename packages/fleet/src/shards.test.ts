import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rng } from '../test/images.js';
import { ShardReader, writeShard } from './shards.js';

const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'mobilenet-shards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedding shards', () => {
  const next = rng(7);
  const rows = Array.from({ length: 5 }, () => Float32Array.from({ length: 13 }, () => next() * 2 - 1));
  const file = writeShard(dir, 'w1-job-1', rows, ['a', 'b', 'c', 'd', 'e']);

  it('are .npy files numpy reads as float32 [rows, width], with a manifest, and no temporary file left', () => {
    const py = `import numpy as np, json, sys
m = np.load(sys.argv[1]); j = json.load(open(sys.argv[2]))
print(json.dumps({"dtype": str(m.dtype), "shape": list(m.shape), "sum": float(m.astype(np.float64).sum()), "rows": j["rows"], "hashes": j["hashes"]}))`;
    const got = JSON.parse(
      execFileSync(PYTHON, ['-c', py, join(dir, file), join(dir, 'w1-job-1.json')], { encoding: 'utf8' }),
    );
    const sum = rows.reduce((s, r) => s + r.reduce((a, b) => a + b, 0), 0);
    expect(got).toMatchObject({ dtype: 'float32', shape: [5, 13], rows: 5, hashes: ['a', 'b', 'c', 'd', 'e'] });
    expect(got.sum).toBeCloseTo(sum, 4);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('give back each row as written', () => {
    const reader = new ShardReader(dir);
    for (const [i, r] of rows.entries()) expect(reader.row(file, i)).toEqual(r);
    expect(() => reader.row(file, 5)).toThrow(/has no row 5/);
    expect(() => reader.row('../x.npy', 0)).toThrow(/a shard name with a folder in it/);
    reader.close();
  });
});
