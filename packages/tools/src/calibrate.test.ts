import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, fanInFill, quantize, readCalibration } from '@mobilenet/core';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { calibrate } from './calibrate.js';

const dirs: string[] = [];
afterAll(() =>
  dirs.forEach((d) => {
    rmSync(d, { recursive: true, force: true });
  }),
);

/** A folder of `n` small synthetic PNGs (gradients differing per image), plus the extra files given. */
async function folder(n: number, extra: Record<string, string> = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mobilenet-calib-'));
  dirs.push(dir);
  for (let k = 0; k < n; k++) {
    const data = Buffer.alloc(48 * 40 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * (k + 3) + k * 40) % 256;
    await sharp(data, { raw: { width: 48, height: 40, channels: 3 } })
      .png()
      .toFile(join(dir, `img${k}.png`));
  }
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

const model = buildModel({ arch: 'v3-small', resolution: 32, convention: 'torchvision', weights: fanInFill(1) });

describe('calibrate', () => {
  it('collects a range for every activation quantize needs, skipping and naming unreadable files', {
    timeout: 120_000,
  }, async () => {
    const dir = await folder(8, { 'notes.txt': 'not an image' });
    const seen: string[] = [];
    const { ranges, skipped } = await calibrate(model.graph, dir, {
      onProgress: (phase, done, total) => seen.push(`${phase} ${done}/${total}`),
    });
    expect(skipped).toEqual([{ file: join(dir, 'notes.txt'), reason: expect.stringContaining('cannot decode') }]);
    expect(ranges.images).toBe(8);
    expect(seen.at(-1)).toBe('run 9/9');
    expect(ranges.ranges.input!.min).toBeLessThan(ranges.ranges.input!.max);
    // Written as JSON and read back for the same model, the ranges quantize it.
    const again = readCalibration(JSON.stringify(ranges), model.graph, 'cache.json');
    expect(quantize(model.graph, again).nodes.some((n) => n.op === 'QuantizeLinear')).toBe(true);
  });

  it('percentile ranges lie within the minmax ones', { timeout: 120_000 }, async () => {
    const dir = await folder(8);
    const [mm, pc] = await Promise.all([
      calibrate(model.graph, dir),
      calibrate(model.graph, dir, { method: 'percentile', percentile: 99.9 }),
    ]);
    expect(pc.ranges.method).toBe('percentile');
    for (const [name, r] of Object.entries(pc.ranges.ranges)) {
      expect(r.min, name).toBeGreaterThanOrEqual(mm.ranges.ranges[name]!.min);
      expect(r.max, name).toBeLessThanOrEqual(mm.ranges.ranges[name]!.max);
    }
  });

  it('refuses a folder with fewer than 8 readable images, naming it and the unreadable files', async () => {
    const dir = await folder(3, { 'broken.jpg': 'xx' });
    await expect(calibrate(model.graph, dir)).rejects.toThrow(
      `image folder '${dir}': expected at least 8 readable images, received 3 of 4 files; unreadable: ${join(dir, 'broken.jpg')}`,
    );
    await expect(calibrate(model.graph, join(dir, 'missing'))).rejects.toThrow(
      `image folder '${join(dir, 'missing')}': expected a readable folder of images, received ENOENT`,
    );
  });

  it('uses a linked image, and names a FIFO and a link to /dev/zero as skipped, within seconds', {
    timeout: 120_000,
  }, async () => {
    const dir = await folder(7);
    const elsewhere = await folder(1);
    symlinkSync(join(elsewhere, 'img0.png'), join(dir, 'linked.png'));
    symlinkSync('/dev/zero', join(dir, 'zero.png'));
    const fifo = spawnSync('mkfifo', [join(dir, 'pipe.jpg')]).status === 0;
    const t0 = performance.now();
    const { ranges, skipped } = await calibrate(model.graph, dir);
    expect(performance.now() - t0).toBeLessThan(60_000);
    // The link counts: 8 images, where it used to be dropped unseen ('0 of 0 files' for a folder of links).
    expect(ranges.images).toBe(8);
    expect(skipped).toEqual([
      ...(fifo
        ? [{ file: join(dir, 'pipe.jpg'), reason: 'is a FIFO (named pipe); expected an image file (a regular file)' }]
        : []),
      { file: join(dir, 'zero.png'), reason: 'is a character device; expected an image file (a regular file)' },
    ]);
  });
});
