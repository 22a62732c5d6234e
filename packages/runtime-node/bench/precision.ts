// Quantization experiments and the precision benchmark: calibrate, quantize with each option set, count the fused
// QLinear nodes in onnxruntime's optimized graph, time int8/fp16 against fp32 (paired, interleaved, spinning off),
// and report sizes and SQNR over an evaluation folder.
// Usage: tsx --conditions=source bench/precision.ts ARCH CALIB_DIR EVAL_DIR [variants...] [--runs N]
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
import * as ort from 'onnxruntime-node';
import { calibrate } from '../../tools/src/calibrate.js';
import { readImageFolder } from '../src/image-folder.js';

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

const opts = (threads: number, spin: boolean, file?: string): ort.InferenceSession.SessionOptions => ({
  executionProviders: ['cpu'],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  ...(file && { optimizedModelFilePath: file }),
  extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } },
});

async function logits(s: ort.InferenceSession, x: Float32Array): Promise<Float32Array> {
  const out = await s.run({ input: new ort.Tensor('float32', x, [1, 3, pre.size, pre.size]) });
  return out.logits!.data as Float32Array;
}

function fidelity(ref: Float32Array[], cand: Float32Array[]) {
  let sig = 0,
    noise = 0,
    maxAbs = 0,
    agree = 0,
    overlap = 0;
  const top = (v: Float32Array, k: number) => [...v.keys()].sort((a, b) => v[b]! - v[a]!).slice(0, k);
  ref.forEach((r, i) => {
    const c = cand[i]!;
    for (let j = 0; j < r.length; j++) {
      sig += r[j]! ** 2;
      noise += (r[j]! - c[j]!) ** 2;
      maxAbs = Math.max(maxAbs, Math.abs(r[j]! - c[j]!));
    }
    if (top(r, 1)[0] === top(c, 1)[0]) agree++;
    const t5 = new Set(top(r, 5));
    overlap += top(c, 5).filter((k) => t5.has(k)).length / 5;
  });
  return { sqnr: 10 * Math.log10(sig / noise), top1: agree / ref.length, top5: overlap / ref.length, maxAbs };
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
  const med = (a: number[]) => (a.length ? a.sort((p, q) => p - q)[a.length >> 1]! : NaN);
  console.log(
    JSON.stringify({
      arch,
      variant: name,
      fp32ms: +med(ta).toFixed(2),
      ms: +med(tb).toFixed(2),
      speedup: +(med(ta) / med(tb)).toFixed(2),
      size: +(bytes.length / fp32.length).toFixed(3),
      sqnr: +f.sqnr.toFixed(2),
      top1: f.top1,
      top5: +f.top5.toFixed(3),
      maxAbs: +f.maxAbs.toFixed(4),
      file,
    }),
  );
  console.log(`  optimized graph: ${fused}`);
  await s.release();
}
