// Our MobileNetV4 exports against timm's, exported by torch.onnx at the same opset, in onnxruntime-node CPU: both
// files hold the same formula weights (packages/core/test/testing-formula.ts and its Python twin) at timm's input
// size, are checked to compute the same logits, then timed in one process, interleaved run by run (2 intra-op
// threads, spinning off so the two sessions do not steal each other's cores, batch 1). Prints the median of each
// and the median paired ratio ours/timm per model (below 1: ours is faster).
// Needs /usr/bin/python3 with torch and timm's source (TIMM_SRC, default /work/timm-src).
// Run: pnpm exec tsx --conditions=source apps/bench/scripts/timm/v4-vs-timm.ts [runs] [model ...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { type Arch, buildWithWeights, readCheckpoint, toOnnx, writeSafetensors } from '@mobilenet/core';
import { formulaCheckpoint, formulaInput, relError } from '@mobilenet/core/testing';
import { cpuOptions } from '../../src/shared/ort-options.js';
import { median } from '../../src/shared/stats.js';

const REPO = resolve(import.meta.dirname, '../../../..');
const RUNS = Number(process.argv[2] ?? 100);
const ONLY = process.argv.slice(3);
const OPSET = 17;
const KEYS = JSON.parse(readFileSync(join(REPO, 'packages/core/test/fixtures/timm-v4/timm-v4-keys.json'), 'utf8')) as {
  models: Record<string, { arch: Arch; width: number; keys: Record<string, number[]> }>;
};

const dir = mkdtempSync(join(tmpdir(), 'mobilenet-v4-timm-'));
try {
  const names = ONLY.length ? ONLY : Object.keys(KEYS.models);
  const py = spawnSync(
    process.env.MOBILENET_PYTHON ?? '/usr/bin/python3',
    [join(import.meta.dirname, 'timm_v4_export.py'), dir, String(OPSET), ...names],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (py.status !== 0) throw new Error(`timm_v4_export.py failed (status ${py.status}): ${py.stderr.slice(-2000)}`);
  const exported = py.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { model: string; resolution: number; file: string });
  const options = cpuOptions({ threads: 2, spinning: false });
  console.log(
    `onnxruntime-node ${ort.env.versions.common}, CPU, 2 threads, spinning off, batch 1, opset ${OPSET}, ${RUNS} paired runs`,
  );
  console.log('model                           px   ours ms  timm ms  ours/timm (median paired)  logits rel');
  for (const { model, resolution: r, file } of exported) {
    const t = KEYS.models[model]!;
    const ckpt = readCheckpoint(writeSafetensors(formulaCheckpoint(t.keys)), `${model}.safetensors`);
    const ours = toOnnx(
      buildWithWeights({ arch: t.arch, width: t.width, resolution: r }, ckpt, { source: model }).graph,
      { opset: OPSET },
    );
    const sessions = {
      ours: await ort.InferenceSession.create(ours, options),
      timm: await ort.InferenceSession.create(file, options),
    };
    const x = new ort.Tensor('float32', formulaInput([1, 3, r, r]), [1, 3, r, r]);
    const [a, b] = [await sessions.ours.run({ input: x }), await sessions.timm.run({ input: x })];
    const rel = relError(a.logits!.data as Float32Array, b.logits!.data as Float32Array);
    if (!(rel < 1e-4))
      throw new Error(`${model}: our logits differ from timm's export by rel ${rel}: not the same computation`);
    const times = { ours: [] as number[], timm: [] as number[] };
    for (let i = 0; i < 10; i++) for (const s of Object.values(sessions)) await s.run({ input: x });
    for (let i = 0; i < RUNS; i++) {
      // Alternate which goes first, so neither always runs on a cache the other warmed.
      for (const k of i % 2 ? (['ours', 'timm'] as const) : (['timm', 'ours'] as const)) {
        const t0 = performance.now();
        await sessions[k].run({ input: x });
        times[k].push(performance.now() - t0);
      }
    }
    const ratio = median(times.ours.map((v, i) => v / times.timm[i]!));
    console.log(
      `${model.padEnd(31)} ${String(r).padStart(3)} ${median(times.ours).toFixed(2).padStart(8)} ${median(times.timm).toFixed(2).padStart(8)}  ${ratio.toFixed(3).padStart(25)}  ${rel.toExponential(1)}`,
    );
    for (const s of Object.values(sessions)) await s.release();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
