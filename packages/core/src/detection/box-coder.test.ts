import { describe, expect, it } from 'vitest';
import { type F32Record, f32, type HeadInputs, headOutputs, readFixture } from '../../test/fixtures/detection/read.js';
import { defaultBoxes, SSDLITE_DEFAULT_BOXES, SSDLITE320_GRIDS, SSDLITE320_INPUT_SIZE } from './anchors.js';
import { BBOX_XFORM_CLIP, clipBoxes, decodeBoxes, SSD_BOX_CODER_WEIGHTS } from './box-coder.js';

interface Fixture {
  numAnchors: number;
  cases: Record<string, { inputs: HeadInputs }>;
  decode: { decoded: F32Record; clipped: F32Record };
}

const { data, missing } = readFixture<Fixture>('postprocess.json');
if (missing) console.warn(`box-coder.test.ts skipped: ${missing}`);

/** Largest relative error (|a - b| / |b|, over |b| >= 1e-3, else absolute); NaN must meet NaN and infinity itself. */
function maxError(a: Float32Array, b: Float32Array): { rel: number; abs: number } {
  let rel = 0;
  let abs = 0;
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(y) || !Number.isFinite(y)) {
      expect(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)), `value ${i}: ${x} vs ${y}`).toBe(true);
      continue;
    }
    const d = Math.abs(x - y);
    abs = Math.max(abs, d);
    rel = Math.max(rel, Math.abs(y) >= 1e-3 ? d / Math.abs(y) : d);
  }
  return { rel, abs };
}

describe.skipIf(missing !== null)('BoxCoder.decode_single and clip_boxes_to_image against torchvision', () => {
  it('weights (10, 10, 5, 5) and the clamp log(1000 / 16)', () => {
    expect(SSD_BOX_CODER_WEIGHTS).toEqual([10, 10, 5, 5]);
    expect(BBOX_XFORM_CLIP).toBe(Math.log(1000 / 16));
  });

  it('3,234 decoded boxes (random, zero, huge, infinite and NaN deltas) to 1e-4 relative, then clipped', () => {
    const anchors = defaultBoxes(SSDLITE_DEFAULT_BOXES, SSDLITE320_GRIDS, SSDLITE320_INPUT_SIZE);
    const spec = data?.cases['degenerate-480x640']?.inputs as HeadInputs;
    const { deltas } = headOutputs(spec, data?.numAnchors ?? 0);
    const decoded = decodeBoxes(deltas, anchors);
    const e1 = maxError(decoded, f32(data!.decode.decoded));
    const clipped = clipBoxes(decoded, 320, 320);
    const e2 = maxError(clipped, f32(data!.decode.clipped));
    console.log(`decode: max rel ${e1.rel}, abs ${e1.abs} px; clipped: max rel ${e2.rel}, abs ${e2.abs} px`);
    expect(e1.rel).toBeLessThanOrEqual(1e-4);
    expect(e2.rel).toBeLessThanOrEqual(1e-4);
  });
});
