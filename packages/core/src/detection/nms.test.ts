import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type F32Record, f32, readFixture } from '../../test/fixtures/detection/read.js';
import { batchedNms, nms } from './nms.js';

interface NmsCase {
  boxes: F32Record;
  scores: F32Record;
  idxs: number[];
  results: { iouThreshold: number; batched: number[]; single: number[] }[];
}

const { data, missing } = readFixture<{ cases: Record<string, NmsCase> }>('nms.json');
if (missing) console.warn(`nms.test.ts skipped: ${missing}`);

describe.skipIf(missing !== null)('nms and batched_nms against torchvision (fixtures/detection/nms.json)', () => {
  it('kept indices identical, in the same order, on every case and threshold (ties, NaN, zero area included)', () => {
    let checked = 0;
    for (const [name, c] of Object.entries(data?.cases ?? {})) {
      const boxes = f32(c.boxes);
      const scores = f32(c.scores);
      const labels = Int32Array.from(c.idxs);
      for (const r of c.results) {
        const where = `${name} @ ${r.iouThreshold}`;
        expect(Array.from(nms(boxes, scores, r.iouThreshold)), `nms ${where}`).toEqual(r.single);
        expect(Array.from(batchedNms(boxes, scores, labels, r.iouThreshold)), `batched_nms ${where}`).toEqual(
          r.batched,
        );
        checked += 2;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });
});

/** IoU as a float64 reference (0 for empty unions). */
function iou(b: Float32Array, i: number, j: number): number {
  const w = Math.max(0, Math.min(b[i * 4 + 2]!, b[j * 4 + 2]!) - Math.max(b[i * 4]!, b[j * 4]!));
  const h = Math.max(0, Math.min(b[i * 4 + 3]!, b[j * 4 + 3]!) - Math.max(b[i * 4 + 1]!, b[j * 4 + 1]!));
  const inter = w * h;
  const areaI = (b[i * 4 + 2]! - b[i * 4]!) * (b[i * 4 + 3]! - b[i * 4 + 1]!);
  const areaJ = (b[j * 4 + 2]! - b[j * 4]!) * (b[j * 4 + 3]! - b[j * 4 + 1]!);
  const union = areaI + areaJ - inter;
  return union > 0 ? inter / union : 0;
}

// Coordinates on a 1/8 pixel grid: no subnormal areas, whose float32 IoU is 0/0 in torchvision too.
const coordinate = fc.integer({ min: 0, max: 1600 }).map((v) => v / 8);
const side = fc.integer({ min: 0, max: 640 }).map((v) => v / 8);
const box = fc.tuple(coordinate, coordinate, side, side).map(([x, y, w, h]) => [x, y, x + w, y + h]);
const problem = (maxBoxes: number) =>
  fc.record({
    boxes: fc.array(box, { minLength: 0, maxLength: maxBoxes }),
    seed: fc.integer({ min: 0, max: 1 << 30 }),
    classes: fc.integer({ min: 1, max: 4 }),
    levels: fc.integer({ min: 1, max: 6 }),
    threshold: fc.double({ min: 0, max: 1, noNaN: true }),
  });

/** Scores on few levels (ties) and labels, derived from the seed. */
function materialize(p: { boxes: number[][]; seed: number; classes: number; levels: number }) {
  const n = p.boxes.length;
  const boxes = Float32Array.from(p.boxes.flat());
  const scores = new Float32Array(n);
  const labels = new Int32Array(n);
  let s = p.seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    scores[i] = ((s >>> 8) % p.levels) / p.levels;
    labels[i] = (s >>> 20) % p.classes;
  }
  return { boxes, scores, labels };
}

describe('nms invariants (fast-check)', () => {
  for (const maxBoxes of [60, 1200]) {
    it(`kept boxes of one class overlap by IoU <= threshold, scores non-increasing, indices unique (up to ${maxBoxes} boxes)`, () => {
      fc.assert(
        fc.property(problem(maxBoxes), (p) => {
          const { boxes, scores, labels } = materialize(p);
          const keep = batchedNms(boxes, scores, labels, p.threshold);
          expect(new Set(keep).size).toBe(keep.length);
          for (let a = 0; a < keep.length; a++) {
            if (a > 0) expect(scores[keep[a]!]!).toBeLessThanOrEqual(scores[keep[a - 1]!]!);
            for (let b = a + 1; b < keep.length; b++) {
              if (labels[keep[a]!] !== labels[keep[b]!]) continue;
              // float32 IoU may sit an ulp from the float64 one
              expect(iou(boxes, keep[a]!, keep[b]!)).toBeLessThanOrEqual(p.threshold + 1e-6);
            }
          }
          // every box that was dropped overlaps a kept box of its class with a score at least its own
          const kept = new Set(keep);
          for (let i = 0; i < scores.length; i++) {
            if (kept.has(i)) continue;
            const cover = keep.some(
              (k) => labels[k] === labels[i] && scores[k]! >= scores[i]! && iou(boxes, k, i) > p.threshold - 1e-6,
            );
            expect(cover, `box ${i} dropped without a cover`).toBe(true);
          }
        }),
        { numRuns: maxBoxes > 100 ? 15 : 200 },
      );
    });
  }

  it('never throws on NaN, infinite, inverted or zero-area boxes and NaN scores', () => {
    const wild = fc.oneof(
      fc.float({ noDefaultInfinity: false, noNaN: false }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(wild, wild, wild, wild, wild), { maxLength: 40 }),
        fc.integer({ min: 1, max: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (rows, classes, threshold) => {
          const boxes = Float32Array.from(rows.flatMap((r) => r.slice(0, 4)));
          const scores = Float32Array.from(rows.map((r) => r[4]));
          const labels = Int32Array.from(rows, (_, i) => i % classes);
          const keep = batchedNms(boxes, scores, labels, threshold);
          const single = nms(boxes, scores, threshold);
          for (const k of [...keep, ...single]) expect(k >= 0 && k < rows.length).toBe(true);
          expect(new Set(keep).size).toBe(keep.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
