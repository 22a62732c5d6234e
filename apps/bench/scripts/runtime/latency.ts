// Benchmark (not a test): latency of every default MobileNet on onnxruntime-node CPU through this runtime,
// p50/p90 over 50 runs after 10 warm-up runs, batch 1 and 8, 1 and 2 threads; and the wrapper's overhead
// against a bare InferenceSession.run on the very same onnxruntime session (interleaved runs).
// Run: pnpm --filter bench bench:latency [--runs 50] [--md FILE]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ARCHS, buildModel, conventionFor, fanInFill, isArch } from '@mobilenet/core';
import { type NodeSession, createSession } from '@mobilenet/runtime-node';
import * as ort from 'onnxruntime-node';
import { percentile as pct } from '../../src/shared/stats.js';

const { values } = parseArgs({
  options: { runs: { type: 'string' }, md: { type: 'string' }, archs: { type: 'string' } },
});
const RUNS = Number(values.runs ?? 50);
const WARMUP = 10;
const archs = values.archs ? values.archs.split(',') : ARCHS;

async function time(fn: () => Promise<unknown>, runs: number): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/** Wrapper logits() vs bare run() on the same ort session, alternating so both see the same machine state. */
async function overhead(
  session: NodeSession,
  x: Float32Array,
  batch: number,
  size: number,
): Promise<{ wrapper: number; bare: number }> {
  const inner = session.ortSession;
  const w: number[] = [];
  const b: number[] = [];
  const bare = async () => {
    const t = new ort.Tensor('float32', x, [batch, 3, size, size]);
    await inner.run({ input: t });
  };
  for (let i = 0; i < WARMUP; i++) {
    await session.logits(x, batch);
    await bare();
  }
  for (let i = 0; i < 4 * RUNS; i++) {
    let t = performance.now();
    await session.logits(x, batch);
    w.push(performance.now() - t);
    t = performance.now();
    await bare();
    b.push(performance.now() - t);
  }
  return { wrapper: pct(w, 0.5), bare: pct(b, 0.5) };
}

const rows: string[][] = [['arch', 'batch', 'threads', 'p50 ms', 'p90 ms', 'img/s', 'bare p50 ms', 'wrapper overhead']];
for (const arch of archs) {
  if (!isArch(arch)) throw new Error(`--archs: '${arch}' is not one of ${ARCHS.join(', ')}`);
  const model = buildModel({
    arch,
    convention: conventionFor(arch, 'torchvision'),
    weights: fanInFill(0),
    batch: 'dynamic',
  });
  for (const threads of [1, 2]) {
    const session = await createSession(model, { threads });
    for (const batch of [1, 8]) {
      const x = new Float32Array(batch * 3 * 224 * 224).map((_, i) => Math.sin(i));
      const t = await time(() => session.logits(x, batch), RUNS);
      const o = batch === 1 ? await overhead(session, x, batch, 224) : undefined;
      const p50 = pct(t, 0.5);
      rows.push([
        arch,
        String(batch),
        String(threads),
        p50.toFixed(2),
        pct(t, 0.9).toFixed(2),
        ((1000 * batch) / p50).toFixed(1),
        o ? o.bare.toFixed(2) : '',
        o ? `${(100 * (o.wrapper / o.bare - 1)).toFixed(1)}%` : '',
      ]);
      process.stderr.write(`${rows.at(-1)!.join('  ')}\n`);
    }
    await session.release();
  }
}
const machine = `${os.cpus()[0]?.model} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, onnxruntime-node ${ort.env.versions.common}`;
const md = [
  `Machine: ${machine}. onnxruntime-node CPU, 224x224, default spinning, ${RUNS} runs after ${WARMUP} warm-up.`,
  '',
  `| ${rows[0]!.join(' | ')} |`,
  `|${rows[0]!.map(() => '---').join('|')}|`,
  ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`),
].join('\n');
console.log(md);
if (values.md) writeFileSync(values.md, `${md}\n`);
