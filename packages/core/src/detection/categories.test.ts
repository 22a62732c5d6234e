import { describe, expect, it } from 'vitest';
import { readFixture } from '../../test/fixtures/detection/read.js';
import { COCO_CATEGORIES, VOC_CATEGORIES } from './categories.js';

const { data, missing } = readFixture<{ coco: string[]; voc: string[] }>('categories.json');
if (missing) console.warn(`categories.test.ts skipped: ${missing}`);

describe.skipIf(missing !== null)("category tables equal torchvision's _COCO_CATEGORIES and _VOC_CATEGORIES", () => {
  it('COCO: 91 names (background, 80 categories, 10 N/A placeholders at their ids)', () => {
    expect(COCO_CATEGORIES).toEqual(data?.coco);
    expect(COCO_CATEGORIES.length).toBe(91);
    expect(COCO_CATEGORIES.filter((n) => n === 'N/A').length).toBe(10);
  });

  it('VOC: 21 names', () => {
    expect(VOC_CATEGORIES).toEqual(data?.voc);
    expect(VOC_CATEGORIES.length).toBe(21);
  });
});
