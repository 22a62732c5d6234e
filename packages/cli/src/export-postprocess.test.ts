// `mobilenet export --postprocess graph|none`: what each file holds, and the flag's refusals. The graph's
// numbers are checked in core (detection/graph-postprocess.test.ts against torchvision's fixtures,
// tasks/detection-graph.test.ts against the TypeScript postprocessing on photographs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromOnnx, readDetectionMetadata } from '@mobilenet/core';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanTmp, run, tmp } from '../test/testing.js';

afterAll(cleanTmp);

const io = (file: string) => {
  const { graph } = fromOnnx(readFileSync(file), file);
  const names = (vs: readonly { name: string; type: { dtype: string; shape: readonly (number | string)[] } }[]) =>
    vs.map((v) => `${v.name} ${v.type.dtype} [${v.type.shape.join(', ')}]`);
  return {
    inputs: names(graph.inputs),
    outputs: names(graph.outputs),
    postprocess: readDetectionMetadata(graph.metadata, file)?.postprocess,
  };
};

describe('export --postprocess on ssdlite320-v3-large', () => {
  it('graph: final detections and threshold inputs, metadata says graph; none: the raw heads', async () => {
    const dir = tmp();
    for (const mode of ['graph', 'none']) {
      const r = await run(
        'export',
        '--arch',
        'ssdlite320-v3-large',
        '--postprocess',
        mode,
        '-o',
        join(dir, `${mode}.onnx`),
      );
      expect(r.code, r.err).toBe(0);
    }
    expect(io(join(dir, 'graph.onnx'))).toEqual({
      inputs: [
        'images float32 [1, 3, 320, 320]',
        'score_threshold float32 [1]',
        'iou_threshold float32 [1]',
        'max_detections int64 [1]',
      ],
      outputs: [
        'detection_boxes float32 [1, postprocess/best:k, 4]',
        'detection_scores float32 [1, postprocess/best:k]',
        'detection_labels int64 [1, postprocess/best:k]',
        'detection_count int64 [1]',
      ],
      postprocess: 'graph',
    });
    expect(io(join(dir, 'none.onnx'))).toEqual({
      inputs: ['images float32 [1, 3, 320, 320]'],
      outputs: ['bbox_regression float32 [1, 3234, 4]', 'cls_logits float32 [1, 3234, 91]'],
      postprocess: 'none',
    });
  });
});

describe('export --postprocess refusals', () => {
  it('names the option and what it needs', async () => {
    const dir = tmp();
    const out = join(dir, 'x.onnx');
    const cases: [string[], RegExp][] = [
      [
        ['--arch', 'v3-small'],
        /--postprocess: expected --arch ssdlite320-v3-large \(a detection model\), received --arch v3-small/,
      ],
      [
        ['--arch', 'ssdlite320-v3-large', '--postprocess', 'yes'],
        /--postprocess: expected graph or none, received 'yes'/,
      ],
      [['--arch', 'ssdlite320-v3-large', '--target', 'opencv'], /--postprocess: expected none with --target opencv/],
      [['--arch', 'ssdlite320-v3-large', '--triton', join(dir, 'repo')], /--postprocess: expected none with --triton/],
    ];
    for (const [args, message] of cases) {
      const argv = args.includes('--postprocess') ? args : [...args, '--postprocess', 'graph'];
      const r = await run('export', ...argv, ...(args.includes('--triton') ? [] : ['-o', out]));
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(message);
      expect(existsSync(out) || existsSync(join(dir, 'repo'))).toBe(false);
    }
  });
});
