// What the 'opencv' export target costs in onnxruntime-node CPU: the default and the lowered file of the same
// model, timed in one process, interleaved run by run (2 intra-op threads, batch 1, spinning off so the two
// sessions do not steal each other's cores). Prints medians and the paired ratio lowered/default.
// Run: pnpm exec tsx --conditions=source apps/bench/scripts/onnx/opencv-target-cost.ts [runs]
import * as ort from 'onnxruntime-node';
import { type Arch, buildModel, toOnnx } from '@mobilenet/core';
import { fixedInput } from '@mobilenet/test-support';
import { cpuOptions } from '../../src/shared/ort-options.js';
import { median } from '../../src/shared/stats.js';

const RUNS = Number(process.argv[2] ?? 300);

for (const arch of ['v2', 'v3-large'] as Arch[]) {
  const { graph } = buildModel({ arch, convention: 'torchvision', weights: 0 });
  const options = cpuOptions({ threads: 2, spinning: false });
  const sessions = {
    default: await ort.InferenceSession.create(toOnnx(graph), options),
    opencv: await ort.InferenceSession.create(toOnnx(graph, { target: 'opencv' }), options),
  };
  const x = new ort.Tensor('float32', fixedInput(1, 224), [1, 3, 224, 224]);
  const times: Record<keyof typeof sessions, number[]> = { default: [], opencv: [] };
  for (let i = 0; i < 20; i++) for (const s of Object.values(sessions)) await s.run({ input: x });
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so neither always runs on a cache the other warmed.
    const order = i % 2 ? (['default', 'opencv'] as const) : (['opencv', 'default'] as const);
    for (const k of order) {
      const t0 = performance.now();
      await sessions[k].run({ input: x });
      times[k].push(performance.now() - t0);
    }
  }
  const ratios = times.opencv.map((t, i) => t / times.default[i]!);
  console.log(
    `${arch} 224 batch 1, ${RUNS} paired runs: default ${median(times.default).toFixed(2)} ms, opencv target ${median(times.opencv).toFixed(2)} ms, median paired ratio ${median(ratios).toFixed(3)}`,
  );
  for (const s of Object.values(sessions)) await s.release();
}
