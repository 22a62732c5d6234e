// Foreign ONNX files: torchvision's MobileNets exported by torch.onnx (tools/fixtures/torch_export.py).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../analysis.js';
import { buildModel } from '../models/build.js';
import type { Arch } from '../models/builtin.js';
import { maxAbsDiff, pythonTorchMissing, runFixtureScript, runOrt } from '../../test/testing.js';
import { fromOnnx } from './read.js';
import { summarizeOnnx } from './summary.js';
import { toOnnx } from './write.js';

const missing = pythonTorchMissing();

describe.skipIf(missing !== null)(
  `torch.onnx exports of torchvision models ${missing ? `(skipped: ${missing})` : ''}`,
  () => {
    let dir = '';
    beforeAll(() => {
      dir = runFixtureScript('torch_export.py');
    });
    afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

    for (const arch of ['v2', 'v3-large', 'v3-small'] as Arch[]) {
      for (const opset of [13, 17]) {
        it(`${arch} opset ${opset}: read (Constant and Identity aliases folded, ONNX defaults filled), same MACs as ours, rewritten file computes the same`, async () => {
          const bytes = readFileSync(join(dir, `${arch}-opset${opset}.onnx`));
          const foreign = summarizeOnnx(bytes);
          expect(foreign.ops.Identity ?? 0).toBeGreaterThan(0);
          const { graph } = fromOnnx(bytes, `${arch}.onnx`);
          expect(graph.nodes.some((n) => n.op === 'Identity' || n.op === 'Constant')).toBe(false);
          // torch fuses BN into the convs in eval mode: MACs are the same, the parameters differ by BN's gamma/beta.
          expect(analyze(graph).macs).toBe(
            analyze(buildModel({ arch, convention: 'torchvision', weights: null }).graph).macs,
          );
          const rewritten = toOnnx(graph, { opset });
          expect(
            Buffer.compare(Buffer.from(toOnnx(fromOnnx(rewritten).graph, { opset })), Buffer.from(rewritten)),
          ).toBe(0);
          const x = {
            input: {
              data: new Float32Array(2 * 3 * 224 * 224).map((_, i) => Math.sin(i * 0.003)),
              dims: [2, 3, 224, 224],
            },
          };
          const [a, b] = [await runOrt(bytes, x), await runOrt(rewritten, x)];
          expect(maxAbsDiff(a.logits!.data as Float32Array, b.logits!.data as Float32Array)).toBeLessThan(1e-5);
        });
      }
    }
  },
);
