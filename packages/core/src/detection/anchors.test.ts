import { describe, expect, it } from 'vitest';
import { type F32Record, f32, readFixture } from '../../test/fixtures/detection/read.js';
import {
  type DefaultBoxOptions,
  defaultBoxes,
  defaultBoxesPerLocation,
  SSDLITE_DEFAULT_BOXES,
  SSDLITE320_GRIDS,
  SSDLITE320_INPUT_SIZE,
} from './anchors.js';

interface AnchorCase {
  aspectRatios: number[][];
  scales: number[];
  steps: number[] | null;
  clip: boolean;
  grids: [number, number][];
  imageSize: [number, number];
  boxes: F32Record;
}

const { data, missing } = readFixture<{ cases: Record<string, AnchorCase> }>('anchors.json');
if (missing) console.warn(`anchors.test.ts skipped: ${missing}`);

/** Largest |a - b| / max(1, |b|) over the arrays (1e-6 of a pixel below one pixel). */
function maxRelError(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)) / Math.max(1, Math.abs(b[i] as number)));
  }
  return worst;
}

describe.skipIf(missing !== null)("DefaultBoxGenerator (torchvision's boxes, fixtures/detection/anchors.json)", () => {
  it('SSDLite320: 3,234 boxes on maps 20, 10, 5, 3, 2, 1, equal to torchvision bit for bit', () => {
    const c = data?.cases.ssdlite320 as AnchorCase;
    expect(SSDLITE320_GRIDS).toEqual(c.grids);
    expect(SSDLITE320_INPUT_SIZE).toEqual(c.imageSize);
    const ours = defaultBoxes(SSDLITE_DEFAULT_BOXES, SSDLITE320_GRIDS, SSDLITE320_INPUT_SIZE);
    expect(ours.length).toBe(3234 * 4);
    expect(defaultBoxesPerLocation(SSDLITE_DEFAULT_BOXES)).toEqual([6, 6, 6, 6, 6, 6]);
    expect(c.scales).toEqual([0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 1.0]);
    expect(Array.from(ours)).toEqual(Array.from(f32(c.boxes)));
  });

  it('every recorded generator (steps, explicit scales, no clip, non-square images) within 1e-6', () => {
    for (const [name, c] of Object.entries(data?.cases ?? {})) {
      const options: DefaultBoxOptions = {
        aspectRatios: c.aspectRatios,
        scales: c.scales,
        ...(c.steps ? { steps: c.steps } : {}),
        clip: c.clip,
      };
      const ours = defaultBoxes(options, c.grids, c.imageSize);
      const theirs = f32(c.boxes);
      expect(ours.length, name).toBe(theirs.length);
      const err = maxRelError(ours, theirs);
      console.log(`anchors ${name}: ${theirs.length / 4} boxes, max error ${err}`);
      expect(err, name).toBeLessThanOrEqual(1e-6);
    }
  });

  it('refuses grids that do not match the aspect-ratio lists', () => {
    expect(() => defaultBoxes(SSDLITE_DEFAULT_BOXES, [[20, 20]], [320, 320])).toThrow(/6 feature maps/);
  });
});
