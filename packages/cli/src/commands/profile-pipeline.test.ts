import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../index.js';
import { threadViewUnavailable } from '../thread-sampler.js';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTty: false });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'mobilenet-profile-pipeline-'));
const images = join(dir, 'images');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Twelve small JPEGs of different colours and sizes, and one file that is not an image (a failed decode).
beforeAll(async () => {
  mkdirSync(images);
  for (let i = 0; i < 12; i++) {
    const background = { r: (i * 40) % 256, g: (i * 90) % 256, b: (i * 150) % 256 };
    await sharp({ create: { width: 80 + 8 * i, height: 60 + 4 * i, channels: 3, background } })
      .jpeg()
      .toFile(join(images, `img${String(i).padStart(2, '0')}.jpg`));
  }
  writeFileSync(join(images, 'broken.jpg'), 'not a jpeg');
});

const MODEL = ['--arch', 'v3-small', '--convention', 'torchvision', '--resolution', '64'];
const linux = threadViewUnavailable() === undefined;

describe('mobilenet profile --pipeline', () => {
  it('records the folder pipeline: summary, JSON timeline and the timeline chart', async () => {
    const prefix = join(dir, 'tl');
    const flags = ['--pipeline', images, '--threads', '1', '--batch', '4', '--runs', '2', '--svg', prefix];
    const r = await run('profile', ...MODEL, ...flags, '--json');
    expect(r.err).toBe(`mobilenet profile: wrote ${prefix}-timeline.svg\n`);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.summary.images).toBe(13);
    expect(j.summary.failed).toBe(1);
    expect(
      j.timeline.images.filter((i: { name: string; ok: boolean }) => !i.ok).map((i: { name: string }) => i.name),
    ).toEqual([join(images, 'broken.jpg')]);
    // 12 good images in runs of 4; the failed one is taken with the first batch but not run.
    expect(j.timeline.batches.map((b: { batch: number }) => b.batch)).toEqual([4, 4, 4]);
    expect(j.timeline.batches.map((b: { images: number }) => b.images)).toEqual([5, 4, 4]);
    for (const b of j.timeline.batches)
      expect(0 <= b.runStart && b.runStart <= b.runEnd && b.runEnd <= j.timeline.wallMs).toBe(true);
    for (const i of j.timeline.images)
      expect(i.queued <= i.decodeStart && i.decodeStart <= i.decodeEnd && i.decodeEnd <= i.preprocessEnd).toBe(true);
    expect(j.summary.inference).toMatchObject({ batch: 4, runs: 2 });
    expect(j.summary.share).toBeGreaterThan(0);
    expect(j.summary.ceiling).toBeGreaterThan(0);
    expect(j.summary.ceiling).toBeLessThanOrEqual(1);
    const svg = readFileSync(`${prefix}-timeline.svg`, 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).not.toMatch(/NaN/);
    if (!linux) return void expect(j.timeline.threadsMissing).toBeTruthy();
    const groups = new Set(j.timeline.threads.threads.map((t: { group: string }) => t.group));
    for (const g of ['JavaScript', 'libuv pool', 'sampler']) expect(groups).toContain(g);
    // One intra-op thread: onnxruntime runs on the calling thread and starts no thread of its own.
    expect(groups).not.toContain('onnxruntime');
    expect(j.timeline.threads.samples.length).toBeGreaterThan(2);
    expect(j.summary.cpuPerImage.JavaScript).toBeGreaterThan(0);
    expect(svg).toContain("libvips' threads");
  });

  it('prints the summary a person reads', async () => {
    // Two intra-op threads: onnxruntime starts one of its own (with one, it runs on the calling thread alone).
    const r = await run('profile', ...MODEL, '--pipeline', images, '--threads', '2', '--runs', '1');
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(
      /^mobilenet_v3_small[^\n]*, the folder pipeline over '[^']+' on [^\n]+, 2 intra-op threads: 13 images \(1 failed\) in [\d.]+ ms/,
    );
    expect(r.out).toMatch(/\n {2}in model runs +[\d.]+ +\(\d+%\)\n/);
    expect(r.out).toMatch(/\nthe pipeline reaches \d+% of inference-only throughput\n/);
    expect(r.out).toMatch(
      /\nceiling: at 100% of \d+ cores, [\d.]+ ms of CPU per image allows [\d.]+ ms per image, \d+% of inference-only\n/,
    );
    if (linux) expect(r.out).toMatch(/\n {2}onnxruntime +[\d.]+ {2}onnxruntime's intra-op threads\n/);
  });

  it('names the folder that is missing or empty, and refuses --images with it', async () => {
    const missing = join(dir, 'nowhere');
    expect(await run('profile', ...MODEL, '--pipeline', missing)).toEqual({
      code: 2,
      out: '',
      err: `mobilenet profile: option --pipeline: expected a folder of images, received '${missing}', not a folder\n`,
    });
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect((await run('profile', ...MODEL, '--pipeline', empty)).err).toMatch(
      new RegExp(
        `^mobilenet profile: option --pipeline: expected a folder with images \\(.*\\), received none in '${empty}'\\n$`,
      ),
    );
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'only.png'), 'not a png');
    const r = await run('profile', ...MODEL, '--pipeline', broken, '--runs', '1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^mobilenet profile: warning: only 1 image in .*\nmobilenet profile: no image decoded \(1 tried\), so there is no inference to compare with: .*only\.png: cannot decode: not an image .+\n$/,
    );
    expect((await run('profile', ...MODEL, '--pipeline', images, '--images', images)).err).toBe(
      'mobilenet profile: option --images/--pipeline: expected one of them, received both\n',
    );
  });
});
