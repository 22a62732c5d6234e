// mobilenet detect / segment on skimage's photographs (chelsea, coffee, astronaut) with small stand-in models built
// through the IR (@mobilenet/core/testing): planted boxes land where torchvision's anchors put them, drawn copies
// never replace an input, masks are indexed PNGs whose values (read back by Pillow) are the session's classes.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildModel, defaultBoxes, fanInFill, toOnnx, withGraphPostprocess } from '@mobilenet/core';
import { SSD_METADATA, tinyDetector, tinySegmenter } from '@mobilenet/core/testing';
import { createSession } from '@mobilenet/runtime-node';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanTmp, run, tmp } from '../test/testing.js';

afterAll(cleanTmp);

const PHOTOS = resolve(import.meta.dirname, '../../runtime-web/e2e/fixtures');
const NAMES = ['astronaut.jpg', 'chelsea.jpg', 'coffee.jpg']; // a folder lists in name order

/** A folder with copies of the three photographs. */
function photos(): string {
  const dir = tmp();
  for (const n of NAMES) copyFileSync(join(PHOTOS, n), join(dir, n));
  return dir;
}

const sizes = { 'chelsea.jpg': [451, 300], 'coffee.jpg': [600, 400], 'astronaut.jpg': [512, 512] } as const;

describe('mobilenet detect', () => {
  const planted = [{ anchor: 3100, label: 18, logit: 30 }]; // a box of the 5x5 map
  const anchor = defaultBoxes(SSD_METADATA.anchors, SSD_METADATA.grids, SSD_METADATA.inputSize).subarray(
    3100 * 4,
    3101 * 4,
  );
  const model = () => {
    const file = join(tmp(), 'ssd.onnx');
    writeFileSync(file, toOnnx(tinyDetector({ planted: { boxes: planted } })));
    return file;
  };

  it('writes JSON lines, draws boxes on copies, and leaves the inputs as they were', async () => {
    const input = photos();
    const before = NAMES.map((n) => readFileSync(join(input, n)));
    const out = tmp();
    const jsonl = join(tmp(), 'boxes.jsonl');
    const r = await run('detect', input, '--model', model(), '--draw', out, '--jsonl', jsonl);
    expect(r.err).not.toContain('failed');
    expect(r.code).toBe(0);
    const lines = readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].format).toBe('mobilenet-detect-jsonl/1');
    expect(lines.slice(1).map((l) => l.image)).toEqual(NAMES.map((n) => join(input, n)));
    for (const l of lines.slice(1)) {
      const [w, h] = sizes[l.image.split('/').pop() as keyof typeof sizes];
      expect(l.detections).toHaveLength(1);
      expect(l.detections[0].label).toBe('dog');
      // The anchor (x1 y1 x2 y2 of 320 x 320, torchvision's), clipped, scaled to the photo.
      const want = Array.from(anchor, (v, i) => (Math.min(320, Math.max(0, v)) / 320) * (i % 2 ? h : w));
      expect(want[2]! - want[0]!).toBeGreaterThan(10);
      l.detections[0].box.forEach((v: number, i: number) => {
        expect(v).toBeCloseTo(want[i]!, 1);
      });
    }
    expect(readdirSync(out).sort()).toEqual([...NAMES].sort());
    for (const [i, n] of NAMES.entries()) {
      expect(readFileSync(join(input, n)).equals(before[i]!)).toBe(true);
      const meta = await sharp(join(out, n)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', ...sizes[n as keyof typeof sizes]]);
    }
    // Drawing into the folder the photos are in would replace them: refused, even with --force.
    const again = await run('detect', input, '--model', model(), '--draw', input, '--force');
    expect(again.code).toBe(2);
    expect(again.err).toContain('would overwrite the input image');
    const exists = await run('detect', input, '--model', model(), '--draw', out);
    expect([exists.code, exists.err]).toEqual([2, expect.stringContaining('exists; pass --force')]);
  });

  it('refuses thresholds outside [0, 1] by naming the option', async () => {
    for (const [option, value] of [
      ['--score-threshold', '1.5'],
      ['--iou-threshold', '-0.1'],
      ['--max-detections', '0'],
    ]) {
      const r = await run('detect', join(PHOTOS, NAMES[0]!), '--model', model(), option!, value!);
      expect(r.code).toBe(2);
      expect(r.err).toContain(option);
    }
  });
});

describe('mobilenet segment', () => {
  it('writes indexed PNG masks whose values are the classes, and overlays, at each photo size', async () => {
    const graph = tinySegmenter({ resolution: 64, seed: 7 });
    const file = join(tmp(), 'seg.onnx');
    writeFileSync(file, toOnnx(graph));
    const input = photos();
    const out = tmp();
    const r = await run('segment', input, '--model', file, '-o', out, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { image: string; mask: string; overlay: string; width: number }[];
    expect(report.map((x) => x.image)).toEqual(NAMES.map((n) => join(input, n)));
    const session = await createSession({ graph });
    const results = await session.segment(NAMES.map((n) => join(input, n)));
    await session.release();
    for (const [i, x] of report.entries()) {
      const res = results[i]!;
      if (!res.ok) throw new Error(res.error);
      // Pillow reads the mask's palette indices, independently of our encoder.
      const py = spawnSync(
        '/usr/bin/python3',
        [
          '-c',
          // The header line is flushed before the pixels: print() buffers on a pipe, the binary write does not.
          'import sys, PIL.Image as I; m = I.open(sys.argv[1]); print(m.mode, *m.size, flush=True); sys.stdout.buffer.write(m.tobytes())',
          x.mask,
        ],
        { maxBuffer: 1 << 24 },
      );
      const text = py.stdout.subarray(0, py.stdout.indexOf(10)).toString();
      const values = py.stdout.subarray(py.stdout.indexOf(10) + 1);
      expect(text).toBe(`P ${res.mask.width} ${res.mask.height}`);
      expect(Uint16Array.from(values)).toEqual(res.mask.classes);
      const overlay = await sharp(x.overlay).metadata();
      expect([overlay.width, overlay.height]).toEqual([res.mask.width, res.mask.height]);
    }
  });
});

describe('the real architectures, seeded (--arch)', () => {
  it('detect --arch ssdlite320-v3-large and segment --arch lraspp-v3-large answer as the library does', async () => {
    const input = photos();
    const jsonl = join(tmp(), 'ssd.jsonl');
    const r = await run('detect', input, '--arch', 'ssdlite320-v3-large', '--jsonl', jsonl, '--score-threshold', '0.5');
    expect(r.code).toBe(0);
    expect(r.err).toContain('seeded random weights');
    const lines = readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l));
    // The CLI runs a detector built from --arch with its postprocessing in the graph, as export writes it.
    const graph = withGraphPostprocess(
      buildModel({ arch: 'ssdlite320-v3-large', weights: fanInFill(0), batch: 'dynamic' }).graph,
    );
    const session = await createSession({ graph });
    const want = [];
    for await (const x of session.detectAll(
      NAMES.map((n) => join(input, n)),
      { scoreThreshold: 0.5 },
    ))
      want.push(x);
    await session.release();
    expect(lines).toEqual(JSON.parse(JSON.stringify(want)));
    expect(lines.every((l) => l.detections.length > 0)).toBe(true);
    const out = tmp();
    const s = await run('segment', input, '--arch', 'lraspp-v3-large', '--resolution', '128', '-o', out, '--json');
    expect(s.code).toBe(0);
    const report = JSON.parse(s.out) as { width: number; height: number; classes: Record<string, number> }[];
    expect(report.map((x) => [x.width, x.height])).toEqual(NAMES.map((n) => sizes[n as keyof typeof sizes]));
    for (const x of report) expect(Object.values(x.classes).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
  });
});
