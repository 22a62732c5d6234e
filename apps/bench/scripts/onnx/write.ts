// Benchmark (not a test): time and peak memory of writing MobileNetV3-Large (5.48M float parameters) to ONNX.
// Run: pnpm --filter bench bench:write   (uses --expose-gc to settle the heap before measuring)
import os from 'node:os';
import { buildModel, toOnnx } from '@mobilenet/core';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

const { graph } = buildModel({ arch: 'v3-large', convention: 'torchvision', weights: 0 });
const weightBytes = graph.initializers.reduce((a, i) => a + (i.data?.byteLength ?? 0), 0);
gc();
const before = process.memoryUsage();
const rssBefore = process.resourceUsage().maxRSS * 1024;
const t0 = performance.now();
const bytes = toOnnx(graph);
const first = performance.now() - t0;
const after = process.memoryUsage();
const peak = process.resourceUsage().maxRSS * 1024;

const times: number[] = [];
for (let i = 0; i < 10; i++) {
  const t = performance.now();
  toOnnx(graph);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, Node ${process.version}`);
console.log(`weights ${MiB(weightBytes)} in ${graph.initializers.length} initializers; file ${MiB(bytes.length)}`);
console.log(`write time: first ${first.toFixed(1)} ms, median of 10 ${times[5]!.toFixed(1)} ms`);
console.log(
  `peak RSS grew ${MiB(Math.max(0, peak - rssBefore))} during the first write (${(Math.max(0, peak - rssBefore) / weightBytes).toFixed(2)}x the weights)`,
);
console.log(
  `external+arrayBuffers after the write: +${MiB(after.arrayBuffers - before.arrayBuffers)} (the output buffer itself is ${MiB(bytes.length)})`,
);
