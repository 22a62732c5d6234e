// `mobilenet export --weights` as a user types it, against the framework that wrote the weights: PyTorch for a
// torchvision checkpoint (tools/fixtures/torchvision_checkpoints.py, run now), timm for a timm one (committed
// fixture of tools/fixtures/timm_fixtures.py).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, toFloat32 } from '@mobilenet/core';
import { main } from './index.js';

const REPO = resolve(import.meta.dirname, '../../..');
const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'mobilenet-cli-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]) {
  let err = '';
  const code = await main(argv, { out: () => {}, err: (t) => void (err += t), isTty: false });
  return { code, err };
}

async function logitsOf(file: string, input: Float32Array, size: number): Promise<Float32Array> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
  try {
    return (await session.run({ input: new ort.Tensor('float32', input, [1, 3, size, size]) })).logits!
      .data as Float32Array;
  } finally {
    await session.release();
  }
}

/** max|ours - theirs| / max|theirs|; Infinity when the lengths differ. */
function rel(ours: Float32Array, theirs: Float32Array): number {
  if (ours.length !== theirs.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < theirs.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - theirs[i]!));
    scale = Math.max(scale, Math.abs(theirs[i]!));
  }
  return diff / scale;
}

const f32 = (path: string) => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

const torchMissing = ((): string | null => {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = `${PYTHON} cannot import torch/torchvision (apt-get install python3-torch python3-torchvision)`;
  if (process.env.CI) throw new Error(`CI requires PyTorch for the weight-import comparison: ${why}`);
  return why;
})();

describe('mobilenet export --weights: the convention follows the checkpoint unless given', () => {
  const tv = join(dir, 'torchvision');
  beforeAll(() => {
    if (torchMissing) return;
    const r = spawnSync(PYTHON, [join(REPO, 'tools/fixtures/torchvision_checkpoints.py'), tv, 'v2'], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`torchvision_checkpoints.py failed: ${r.stderr}`);
  });

  it.skipIf(torchMissing !== null)(
    `export --arch v2 --weights mobilenet_v2.safetensors: torchvision's convention, said, and PyTorch's logits; --convention reference warns ${torchMissing ? `(skipped: ${torchMissing})` : ''}`,
    async () => {
      const weights = join(tv, 'v2.safetensors');
      const out = join(dir, 'v2.onnx');
      const r = await run('export', '--arch', 'v2', '--weights', weights, '-o', out);
      expect(r.code).toBe(0);
      expect(r.err).toContain(
        `weights: ${weights} has torchvision (found features.0.0.weight) keys; convention torchvision, from the torchvision key layout\n`,
      );
      expect(r.err).toContain('(torchvision)');
      expect(r.err).not.toContain('warning');
      const input = f32(join(tv, 'v2.input.bin'));
      const expected = f32(join(tv, 'v2.logits.bin'));
      expect(rel(await logitsOf(out, input, 224), expected)).toBeLessThan(1e-4);

      const ref = join(dir, 'v2-reference.onnx');
      const w = await run('export', '--arch', 'v2', '--convention', 'reference', '--weights', weights, '-o', ref);
      expect(w.code).toBe(0);
      expect(w.err).toContain(
        `warning: ${weights}: convention reference was given, but the checkpoint has torchvision keys, whose models use convention torchvision; building with reference as asked`,
      );
      expect(rel(await logitsOf(ref, input, 224), expected)).toBeGreaterThan(1e-3);
    },
  );

  it("export --arch v1 --width 0.25 --weights (timm's MobileNetV1): timm's convention, said, and timm's logits", async () => {
    const fixtures = join(REPO, 'packages/core/test/fixtures/timm');
    const weights = join(fixtures, 'mobilenetv1_025.safetensors');
    const out = join(dir, 'v1.onnx');
    const r = await run(
      'export',
      '--arch',
      'v1',
      '--width',
      '0.25',
      '--resolution',
      '64',
      '--weights',
      weights,
      '-o',
      out,
    );
    expect(r.code).toBe(0);
    expect(r.err).toContain(
      `weights: ${weights} has timm (found conv_stem.weight) keys; convention timm, from the timm key layout; timm's tf_ models need convention timm-tf\n`,
    );
    const io = readSafetensors(readFileSync(join(fixtures, 'mobilenetv1_025.io.safetensors')), 'io').tensors;
    expect(
      rel(await logitsOf(out, toFloat32(io.get('input')!, 'input'), 64), toFloat32(io.get('logits')!, 'logits')),
    ).toBeLessThan(1e-4);
  });
});
