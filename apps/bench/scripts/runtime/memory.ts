// Benchmark (not a test): 10,000 classifications of a JPEG in one process (decode, preprocess, run, top-5),
// printing RSS and heap every 1,000 to show that memory stays flat.
// Run: pnpm --filter bench bench:memory [--count 10000]
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel, fanInFill } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';

const { values } = parseArgs({ options: { count: { type: 'string' } } });
const COUNT = Number(values.count ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const MiB = (n: number) => (n / 2 ** 20).toFixed(1);
// runtime-node's test photo (320x240).
const image = join(import.meta.dirname, '../../../../packages/runtime-node/test/fixtures/scene.jpg');

const session = await createSession(
  buildModel({ arch: 'v3-small', convention: 'torchvision', weights: fanInFill(0) }),
  { threads: 2 },
);
console.log(
  `machine: ${os.cpus()[0]?.model} x${os.cpus().length}, Node ${process.version}; v3-small 224, scene.jpg (320x240)`,
);
console.log('done    rss MiB  heapUsed MiB  external MiB  arrayBuffers MiB  ms/image');
let t = performance.now();
for (let i = 1; i <= COUNT; i++) {
  const [r] = await session.classify([image]);
  if (!r!.ok) throw new Error(r!.error);
  if (i % 1000 === 0) {
    gc();
    const m = process.memoryUsage();
    const ms = (performance.now() - t) / 1000;
    console.log(
      `${String(i).padStart(5)}  ${MiB(m.rss).padStart(8)}  ${MiB(m.heapUsed).padStart(12)}  ${MiB(m.external).padStart(12)}  ${MiB(m.arrayBuffers).padStart(16)}  ${ms.toFixed(2).padStart(8)}`,
    );
    t = performance.now();
  }
}
await session.release();
