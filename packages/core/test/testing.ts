// Test helpers: the independent oracles (onnxruntime-node, Debian's python3-onnx). Not part of the package.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';

// The comparisons and the capability gate live in @mobilenet/test-support, shared by every package's tests.
export { maxAbs, maxAbsDiff, skipUnless } from '@mobilenet/test-support';

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

const CHECKER = join(REPO, 'tools/onnx_check.py');
const record = (name: string, bytes: Uint8Array) => [
  Buffer.from(`${name}\t${bytes.length}\n`),
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length),
];
const parseResults = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CheckResult);

/** Runs onnx.checker.check_model(full_check=True) on each model, in one python process (models sent on stdin). */
export function onnxCheck(models: Record<string, Uint8Array>): CheckResult[] {
  const input = Buffer.concat(Object.entries(models).flatMap(([name, bytes]) => record(name, bytes)));
  const r = spawnSync(PYTHON, [CHECKER, '--stdin'], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  const results = parseResults(r.stdout);
  if (results.length !== Object.keys(models).length)
    throw new Error(
      `${CHECKER}: expected ${Object.keys(models).length} results, received ${results.length}: ${r.stderr.trim()}`,
    );
  return results;
}

/**
 * Like onnxCheck, for many large models: one python process checks them as they are made, so only one model
 * is in memory at a time and nothing is written to disk.
 */
export async function onnxCheckStream(models: Iterable<[name: string, bytes: Uint8Array]>): Promise<CheckResult[]> {
  const child = spawn(PYTHON, [CHECKER, '--stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((res, rej) => child.on('error', rej).on('close', res));
  let sent = 0;
  for (const [name, bytes] of models) {
    for (const part of record(name, bytes)) if (!child.stdin.write(part)) await once(child.stdin, 'drain');
    sent++;
  }
  child.stdin.end();
  await exited;
  const results = parseResults(stdout);
  if (results.length !== sent)
    throw new Error(`${CHECKER}: expected ${sent} results, received ${results.length}: ${stderr.trim()}`);
  return results;
}

export async function runOrt(
  bytes: Uint8Array,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const input: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) input[k] = new ort.Tensor('float32', v.data, v.dims);
    return await session.run(input);
  } finally {
    await session.release();
  }
}

/** Why torch/torchvision cannot run here, or null. In CI they must: there this is never a skip. */
export function pythonTorchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = `${PYTHON} cannot import torch/torchvision (apt-get install python3-torch python3-torchvision)`;
  if (process.env.CI) throw new Error(`CI requires PyTorch for the weight-import comparison: ${why}`);
  return why;
}

/** Runs a fixture script of tools/fixtures into a fresh temporary folder and returns the folder. */
export function runFixtureScript(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mobilenet-fixture-'));
  const r = spawnSync(PYTHON, [join(REPO, 'tools/fixtures', script), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return dir;
}

/** Stored (uncompressed) zip archive of the given entries, for checkpoint tests. */
export function makeZip(entries: Record<string, Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const n = new TextEncoder().encode(name);
    const local = new Uint8Array(30 + n.length);
    const dv = new DataView(local.buffer);
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint32(18, data.length, true);
    dv.setUint32(22, data.length, true);
    dv.setUint16(26, n.length, true);
    local.set(n, 30);
    const cd = new Uint8Array(46 + n.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, n.length, true);
    cv.setUint32(42, offset, true);
    cd.set(n, 46);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, central.length, true);
  ev.setUint16(10, central.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  return Buffer.concat([...parts, ...central, end]);
}
