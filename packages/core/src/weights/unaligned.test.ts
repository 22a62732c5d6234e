import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOnnx } from '../onnx/write.js';
import { pythonTorchMissing, runFixtureScript, runOrt } from '../../test/testing.js';
import { readCheckpoint } from './index.js';
import { buildWithWeights } from './load.js';
import { type Checkpoint, DTYPE_BYTES } from './tensor.js';

// Checkpoints whose data is not aligned to its element size (legal in every format), made by
// tools/fixtures/unaligned_checkpoints.py, must give PyTorch's logits: the same weights, read from the right place.
const f32 = (bytes: Uint8Array) =>
  new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
const maxRel = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0) / Math.max(1, ...b.map(Math.abs));

/**
 * The file as a Node Buffer that is a view into a larger pool, at an offset of 8 after other bytes (keeping the file's own misalignment), as Node's
 * readFile returns small files: a reader that copies with Buffer#slice (a view) or ignores byteOffset reads those
 * other bytes instead of the weights.
 */
function pooled(file: Buffer): Buffer {
  const pool = Buffer.alloc(file.length + 8, 0x7b);
  file.copy(pool, 8);
  return pool.subarray(8);
}

const unalignedCount = (ckpt: Checkpoint) =>
  [...ckpt.values()].filter((t) => t.dtype !== 'I64' && t.bytes.byteOffset % DTYPE_BYTES[t.dtype] !== 0).length;

describe('unaligned checkpoints against PyTorch (tools/fixtures/unaligned_checkpoints.py)', () => {
  const missing = pythonTorchMissing();
  let dir = '';
  beforeAll(() => {
    if (!missing) dir = runFixtureScript('unaligned_checkpoints.py');
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  const cases = [
    ['f32.safetensors', 'logits.bin'],
    ['f16.safetensors', 'logits.bin'],
    ['f64.safetensors', 'logits.bin'],
    ['bf16.safetensors', 'bf16.logits.bin'],
    ['legacy.pth', 'logits.bin'],
    ['zip.pth', 'logits.bin'],
  ] as const;
  for (const [file, logitsFile] of cases) {
    it.skipIf(missing !== null)(
      `${file}: unaligned data, read from a plain file and from a pooled Buffer, gives PyTorch's logits ${missing ? `(skipped: ${missing})` : ''}`,
      async () => {
        const input = f32(readFileSync(join(dir, 'input.bin')));
        const expected = f32(readFileSync(join(dir, logitsFile)));
        for (const bytes of [readFileSync(join(dir, file)), pooled(readFileSync(join(dir, file)))]) {
          const ckpt = readCheckpoint(bytes, file);
          // The file really is unaligned: otherwise this test would prove nothing.
          expect(unalignedCount(ckpt), file).toBeGreaterThan(10);
          const m = buildWithWeights({ arch: 'v2', width: 0.5, convention: 'torchvision' }, ckpt, { source: file });
          expect(m.config.classes).toBe(10);
          const out = await runOrt(toOnnx(m.graph), { input: { data: input, dims: [1, 3, 224, 224] } });
          expect(maxRel(out.logits!.data as Float32Array, expected), file).toBeLessThan(1e-4);
        }
      },
    );
  }
});
