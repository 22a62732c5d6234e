// Timing of trainHead on MobileNet-sized embeddings (not a test of speed: run with TRAIN_TIMING=1 to print the table).
//   TRAIN_TIMING=1 npx vitest run src/train/timing.test.ts
import { describe, expect, it } from 'vitest';
import { features, readHeads } from '../../test/fixtures/train/read.js';
import { type TrainHeadOptions, trainHead } from './head.js';
import { Rng } from './rng.js';

/** 1,000 synthetic 1,280-value embeddings in 10 classes: relu(class centre + noise), like pooled MobileNetV2 features. */
function embeddingSet(n = 1000, dim = 1280, classes = 10, seed = 0) {
  const rng = new Rng(seed);
  const centres = Float32Array.from({ length: classes * dim }, () => (rng.nextFloat() < 0.3 ? 2 * rng.nextFloat() : 0));
  const x = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let j = 0; j < dim; j++) x[i * dim + j] = Math.max(0, centres[c * dim + j]! + 8 * (rng.nextFloat() - 0.5));
  }
  return { embeddings: x, labels, classes: Array.from({ length: classes }, (_, c) => `class ${c}`) };
}

function time(label: string, options: TrainHeadOptions) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const head = trainHead(options);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const epochs = head.history.length || head.bestEpoch;
  console.log(
    `${label.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(6)} s wall ${cpuS.toFixed(2).padStart(6)} s cpu  ${String(epochs).padStart(4)} epochs/iterations  ` +
      `val acc ${head.valAccuracy.toFixed(4)}${head.stoppedEarly ? ' (stopped early)' : ''}`,
  );
  return head;
}

describe.skipIf(!process.env.TRAIN_TIMING)('trainHead timing', () => {
  it('1,797 x 64 (digits) and 1,000 x 1,280 x 10 classes', () => {
    const c = readHeads().data!.cases.digits;
    const digits = { embeddings: features(c), labels: c.labels, classes: c.classes };
    time('digits linear, Adam, 50 epochs, lr 0.01', { ...digits, lr: 0.01, weightDecay: 1 / 1527 });
    time('digits linear, L-BFGS, tol 1e-6', { ...digits, optimizer: 'lbfgs', weightDecay: 1 / 1527 });
    time('digits mlp 100, Adam, 50 epochs, lr 0.001', { ...digits, head: 'mlp' });
    const big = embeddingSet();
    time('1000x1280 linear, Adam, 50 epochs, lr 0.001', { ...big });
    time('1000x1280 linear, L-BFGS, wd 1e-3, tol 1e-6', { ...big, optimizer: 'lbfgs', weightDecay: 1e-3 });
    if (process.env.TRAIN_TIMING === 'linear') return;
    const h = time('1000x1280 mlp 100, Adam, 50 epochs, lr 0.001', { ...big, head: 'mlp' });
    expect(h.valAccuracy).toBeGreaterThan(0.5);
  });
});
