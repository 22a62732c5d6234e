// fp32 against int8/fp16 files on onnxruntime-web's WASM backend in Node: paired, interleaved runs, same input.
// Usage: tsx apps/bench/scripts/precision/precision-wasm.ts FP32.onnx CANDIDATE.onnx [runs] [threads]
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { median as med } from '../../src/shared/stats.js';

const [refFile, candFile, runsArg = '30', threadsArg = '1'] = process.argv.slice(2);
ort.env.wasm.numThreads = Number(threadsArg);
const [ref, cand] = await Promise.all(
  [refFile!, candFile!].map((f) => ort.InferenceSession.create(readFileSync(f), { executionProviders: ['wasm'] })),
);
const size = 224;
const x = new ort.Tensor(
  'float32',
  Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.01)),
  [1, 3, size, size],
);
for (let i = 0; i < 3; i++)
  await Promise.all([ref!.run({ input: x }), cand!.run({ input: x })].slice(0, 1)).then(() => cand!.run({ input: x }));
const ta: number[] = [];
const tb: number[] = [];
for (let i = 0; i < Number(runsArg); i++) {
  let t = performance.now();
  await ref!.run({ input: x });
  ta.push(performance.now() - t);
  t = performance.now();
  await cand!.run({ input: x });
  tb.push(performance.now() - t);
}
console.log(
  JSON.stringify({
    reference: refFile,
    candidate: candFile,
    threads: Number(threadsArg),
    refMs: +med(ta).toFixed(1),
    candMs: +med(tb).toFixed(1),
    speedup: +(med(ta) / med(tb)).toFixed(2),
  }),
);
