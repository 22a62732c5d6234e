// Quantization experiments and the precision benchmark: calibrate, quantize with each option set, count the fused
// QLinear nodes in onnxruntime's optimized graph, time int8/fp16 against fp32 (paired, interleaved, spinning off),
// and report sizes and SQNR over an evaluation folder.
// Usage: pnpm --filter bench bench:precision ARCH CALIB_DIR EVAL_DIR [variants...] [--runs N]
// Env: WEIGHTS=file.pth, METHOD=minmax|percentile, PERCENTILE=99.999. Files go to the temp folder (mobilenet-ARCH-*.onnx).
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Arch,
  type QuantizeOptions,
  buildModel,
  buildWithWeights,
  fanInFill,
  quantize,
  readCheckpoint,
  toFloat16,
  toOnnx,
} from '@mobilenet/core';
import { readImageFolder } from '@mobilenet/runtime-node';
import * as ort from 'onnxruntime-node';
import { calibrate } from '@mobilenet/tools';
import { fidelity } from '../../src/shared/fidelity.js';
import { cpuOptions } from '../../src/shared/ort-options.js';
import { median } from '../../src/shared/stats.js';

const [arch = 'v2', calibDir, evalDir, ...rest] = process.argv.slice(2);
const runsAt = rest.indexOf('--runs');
const runs = runsAt >= 0 ? Number(rest[runsAt + 1]) : 200;
const names = rest.filter((r, i) => !r.startsWith('--') && rest[i - 1] !== '--runs');
const VARIANTS: Record<string, QuantizeOptions | 'fp16'> = {
  u8: { activations: 'uint8' },
  s8: { activations: 'int8' },
  'u8-fc': { activations: 'uint8', keepFloat: { classifier: true } },
  'u8-se': { activations: 'uint8', keepFloat: { squeezeExcite: true } },
  's8-se': { activations: 'int8', keepFloat: { squeezeExcite: true } },
  'u8-se-fc': { activations: 'uint8', keepFloat: { squeezeExcite: true, classifier: true } },
  'u8-stem': { activations: 'uint8', keepFloat: { stem: true } },
  'u8-all': { activations: 'uint8', keepFloat: { stem: false } },
  fp16: 'fp16',
};

// WEIGHTS=file.pth: a torchvision checkpoint (tools/fixtures/quant_torch.py writes well-conditioned ones); else fan-in random.
const weights = process.env.WEIGHTS;
const model = weights
  ? buildWithWeights(
      { arch: arch as Arch, convention: 'torchvision' },
      readCheckpoint(readFileSync(weights), weights),
      { source: weights },
    )
  : buildModel({ arch: arch as Arch, convention: 'torchvision', weights: fanInFill(0) });
const pre = JSON.parse(model.graph.metadata['mobilenet.preprocessing']!);
const t0 = Date.now();
const cal = await calibrate(model.graph, calibDir!, {
  method: (process.env.METHOD as 'minmax') ?? 'minmax',
  ...(process.env.PERCENTILE && { percentile: Number(process.env.PERCENTILE) }),
});
console.log(
  `calibrated on ${cal.ranges.images} images in ${((Date.now() - t0) / 1000).toFixed(1)} s (${cal.ranges.method})`,
);
const evalSet = await readImageFolder(evalDir!, pre);

const opts = (threads: number, spin: boolean, file?: string) =>
  cpuOptions({ threads, spinning: spin }, file ? { optimizedModelFilePath: file } : {});

async function logits(s: ort.InferenceSession, x: Float32Array): Promise<Float32Array> {
  const out = await s.run({ input: new ort.Tensor('float32', x, [1, 3, pre.size, pre.size]) });
  return out.logits!.data as Float32Array;
}

const fp32 = toOnnx(model.graph);
writeFileSync(join(tmpdir(), `mobilenet-${arch}-fp32.onnx`), fp32);
const ref = await ort.InferenceSession.create(fp32, opts(2, false));
const refLogits: Float32Array[] = [];
for (const x of evalSet.tensors) refLogits.push(await logits(ref, x));

for (const name of names) {
  const v = VARIANTS[name]!;
  const graph = v === 'fp16' ? toFloat16(model.graph) : quantize(model.graph, cal.ranges, v);
  const bytes = toOnnx(graph);
  const file = join(tmpdir(), `mobilenet-${arch}-${name}.onnx`);
  writeFileSync(file, bytes);
  const optFile = join(tmpdir(), `mobilenet-${arch}-${name}.opt.onnx`);
  const s = await ort.InferenceSession.create(bytes, opts(2, false, optFile));
  const opt = readFileSync(optFile).toString('latin1');
  const count = (op: string) => opt.split(`\x22${String.fromCharCode(op.length)}${op}`).length - 1;
  const fused = [
    'QLinearConv',
    'QGemm',
    'QLinearAdd',
    'QLinearMul',
    'QLinearGlobalAveragePool',
    'QuantizeLinear',
    'DequantizeLinear',
    'HardSwish',
    'Conv',
    'FusedConv',
    'Cast',
    'HardSigmoid',
    'Mul',
  ]
    .map((op) => `${op} ${count(op)}`)
    .join(', ');
  const cand: Float32Array[] = [];
  for (const x of evalSet.tensors) cand.push(await logits(s, x));
  const f = fidelity(refLogits, cand);
  // Paired timing: alternate fp32 and candidate run by run, same input.
  const x = evalSet.tensors[0]!;
  const feeds = { input: new ort.Tensor('float32', x, [1, 3, pre.size, pre.size]) };
  for (let i = 0; i < Math.min(runs, 20); i++) {
    await ref.run(feeds);
    await s.run(feeds);
  }
  const ta: number[] = [],
    tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await ref.run(feeds);
    ta.push(performance.now() - t);
    t = performance.now();
    await s.run(feeds);
    tb.push(performance.now() - t);
  }
  const med = (a: number[]) => (a.length ? median(a) : NaN);
  console.log(
    JSON.stringify({
      arch,
      variant: name,
      fp32ms: +med(ta).toFixed(2),
      ms: +med(tb).toFixed(2),
      speedup: +(med(ta) / med(tb)).toFixed(2),
      size: +(bytes.length / fp32.length).toFixed(3),
      sqnr: +f.sqnrDb.toFixed(2),
      top1: f.top1Agreement,
      top5: +f.top5Overlap.toFixed(3),
      maxAbs: +f.maxAbsDiff.toFixed(4),
      file,
    }),
  );
  console.log(`  optimized graph: ${fused}`);
  await s.release();
}
