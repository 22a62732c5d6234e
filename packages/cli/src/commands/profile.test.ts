import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../index.js';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTty: false });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'mobilenet-profile-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (f: string) => join(import.meta.dirname, '../../../runtime-node/test/fixtures', f);

describe('mobilenet profile', () => {
  it('prints op and block tables, writes SVG charts, and times the pipeline stages over a folder', async () => {
    const images = join(dir, 'images');
    mkdirSync(images);
    for (const f of ['scene.jpg', 'tall.png']) copyFileSync(fixture(f), join(images, f));
    const r = await run(
      'profile',
      '--arch',
      'v3-small',
      '--convention',
      'torchvision',
      '--resolution',
      '64',
      '--runs',
      '2',
      '--threads',
      '1',
      '--images',
      images,
      '--svg',
      join(dir, 'p'),
    );
    const prefix = join(dir, 'p');
    expect(r.err).toBe(
      `mobilenet profile: warning: only 2 images in ${images}: the pipeline stages are averaged over few samples (the first batch also pays for start-up); 10 or more give steadier figures\n` +
        `mobilenet profile: wrote ${prefix}-ops.svg, ${prefix}-layers.svg, ${prefix}-stages.svg\n`,
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ms of kernels per run \(batch 1, each kernel's median over 2 runs, CPU, 1 threads\)/);
    expect(r.out).toMatch(/\nConv 1x1 +[\d.]+ +[\d.]+% +[\d.]+%/);
    expect(r.out).toMatch(/\nfeatures\.0 +/);
    expect(r.out).toMatch(/model run +[\d.]+/);
    expect(r.out).toMatch(/each decode took [\d.]+ ms from start to pixels/);
    for (const f of ['p-ops.svg', 'p-layers.svg', 'p-stages.svg'])
      expect(readFileSync(join(dir, f), 'utf8')).toMatch(/^<svg /);
  });

  it('says what is wrong with its arguments (exit 2)', async () => {
    expect((await run('profile')).err).toBe(
      'mobilenet profile: option FILE/--arch: expected an ONNX file or --arch A, received neither\n',
    );
    const r = await run(
      'profile',
      '--arch',
      'v3-small',
      '--resolution',
      '64',
      '--runs',
      '1',
      '--images',
      join(dir, 'nowhere'),
    );
    expect([r.code, r.err]).toEqual([
      2,
      `mobilenet profile: option --images: expected a folder of images, received '${join(dir, 'nowhere')}', not a folder\n`,
    ]);
    expect((await run('profile', '--arch', 'v2', '--runs', '0')).err).toBe(
      "mobilenet profile: option --runs: expected an integer from 1 to 10000, received '0'\n",
    );
  });
});
