// The record the model builders of issue 26 will be checked against (fixtures/detection/models.json): here only
// that it describes the models the issue names, so a later mismatch is the builder's and not the record's.
import { describe, expect, it } from 'vitest';
import { readFixture } from '../../test/fixtures/detection/read.js';
import { defaultBoxesPerLocation, SSDLITE_DEFAULT_BOXES } from './anchors.js';

interface ModelRecord {
  keys: [string, number[]][];
  params: number;
  featureMaps?: [number, number][];
  heads?: Record<string, number[]>;
}

const { data, missing } = readFixture<Record<string, ModelRecord>>('models.json');
if (missing) console.warn(`models-fixture.test.ts skipped: ${missing}`);

const BUFFERS = /\.(running_mean|running_var|num_batches_tracked)$/;
const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe.skipIf(missing !== null)(
  "torchvision's detection and segmentation models (fixtures/detection/models.json)",
  () => {
    it.each([
      ['ssdlite320_mobilenet_v3_large', 3_440_060],
      ['lraspp_mobilenet_v3_large', 3_221_538],
      ['deeplabv3_mobilenet_v3_large', 11_029_328],
      ['deeplabv3_mobilenet_v3_large_noaux', 11_025_477],
    ])('%s has %i parameters, the sum of its non-buffer state_dict shapes', (name, count) => {
      const record = data?.[name] as ModelRecord;
      expect(record.params).toBe(count);
      const sum = record.keys.filter(([k]) => !BUFFERS.test(k)).reduce((s, [, shape]) => s + numel(shape), 0);
      expect(sum).toBe(count);
    });

    it('SSDLite320: feature maps 20, 10, 5, 3, 2, 1 and heads of 3,234 rows (6 boxes per location)', () => {
      const record = data?.ssdlite320_mobilenet_v3_large as ModelRecord;
      expect(record.featureMaps).toEqual([
        [20, 20],
        [10, 10],
        [5, 5],
        [3, 3],
        [2, 2],
        [1, 1],
      ]);
      const perLocation = defaultBoxesPerLocation(SSDLITE_DEFAULT_BOXES);
      const rows = (record.featureMaps ?? []).reduce((n, [h, w], k) => n + h * w * perLocation[k]!, 0);
      expect(rows).toBe(3234);
      expect(record.heads).toEqual({ bbox_regression: [1, 3234, 4], cls_logits: [1, 3234, 91] });
    });
  },
);
