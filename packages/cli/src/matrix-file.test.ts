// Writing a matrix file on a full disk or through short writes (issue 23): a short write is continued, an error
// names the file, and the header never counts a row whose bytes did not all reach the file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MatrixWriter, readMatrix } from './matrix-file.js';

/** The disk as the test wants it: each write takes at most `chunk` bytes; past `room` bytes it is full. */
const disk = vi.hoisted(() => ({ chunk: Number.POSITIVE_INFINITY, room: Number.POSITIVE_INFINITY }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  // MatrixWriter always passes offset, length and position.
  const writeSync = ((fd: number, buf: Uint8Array, offset: number, length: number, position: number | null) => {
    if (disk.room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const n = Math.min(length, disk.chunk, disk.room);
    disk.room -= n;
    return fs.writeSync(fd, buf, offset, n, position);
  }) as unknown as typeof fs.writeSync;
  return { ...fs, writeSync, default: { ...fs, writeSync } };
});

const dir = mkdtempSync(join(tmpdir(), 'mobilenet-matrix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const row = (v: number) => new Float32Array(8).fill(v);

describe('MatrixWriter on a difficult disk', () => {
  it('writes through short writes of 7 bytes: every row and the header arrive whole', () => {
    disk.chunk = 7;
    const path = join(dir, 'short.npy');
    const m = new MatrixWriter(path, 'npy', false, '-o');
    m.append([row(1), row(2)]);
    m.append([row(3)]);
    m.close();
    disk.chunk = Number.POSITIVE_INFINITY;
    const back = readMatrix(path, 'npy');
    expect([back.rows, back.width, back.data[0], back.data[8], back.data[16]]).toEqual([3, 8, 1, 2, 3]);
  });

  it('a full disk mid-batch is an error naming the file; the header keeps counting only the rows written', () => {
    const path = join(dir, 'full.safetensors');
    const m = new MatrixWriter(path, 'safetensors', false, '-o');
    m.append([row(1)]);
    disk.room = 40; // part of the next batch's rows, and no header rewrite
    expect(() => m.append([row(2), row(3)])).toThrow(`cannot write '${path}': no space left on the device (ENOSPC)`);
    m.close();
    disk.room = Number.POSITIVE_INFINITY;
    const back = readMatrix(path, 'safetensors');
    expect([back.rows, back.data[0]]).toEqual([1, 1]);
    // --resume cuts the partial batch off and goes on from the one row.
    const again = new MatrixWriter(path, 'safetensors', true, '-o');
    expect(again.count).toBe(1);
    again.append([row(4)]);
    again.close();
    expect(Array.from(readMatrix(path, 'safetensors').data.filter((_, i) => i % 8 === 0))).toEqual([1, 4]);
  });
});
