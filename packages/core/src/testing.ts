// Test helpers: the independent oracles (onnxruntime-node, Debian's python3-onnx). Not part of the package.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';

export const REPO = resolve(import.meta.dirname, '../../..');
const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';

/** Why the python oracle cannot run here, or null when it can. In CI it must run: there this is never a skip. */
export function pythonOnnxMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = `${PYTHON} cannot import onnx (apt-get install python3-onnx): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  if (process.env.CI) throw new Error(`CI requires the onnx checker: ${why}`);
  return why;
}

export interface CheckResult {
  file: string;
  ok: boolean;
  error?: string;
}

/** Runs onnx.checker.check_model(full_check=True) on each model, in one python process. */
export function onnxCheck(models: Record<string, Uint8Array>): CheckResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'mobilenet-check-'));
  const files = Object.entries(models).map(([name, bytes]) => {
    const file = join(dir, `${name}.onnx`);
    writeFileSync(file, bytes);
    return file;
  });
  const r = spawnSync(PYTHON, [join(REPO, 'tools/onnx_check.py'), ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as CheckResult);
}

export async function runOrt(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const input: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) input[k] = new ort.Tensor('float32', v.data, v.dims);
    return await session.run(input);
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
