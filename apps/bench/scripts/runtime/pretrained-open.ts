// Benchmark (not a test): what a cached pretrained name costs over the same checkpoint opened as a local file.
// A name reads its file from the cache and hashes it (every read is verified against its name's sha256), then
// builds the model as a local checkpoint does. Interleaved runs, median of each; the session start is included.
// Run: pnpm --filter bench bench:pretrained [--runs 15] [--name torchvision:mobilenet_v3_large]
// The name must be in the cache (mobilenet weights fetch NAME), or MOBILENET_BENCH_FIXTURE=1 makes a formula-weight
// v3-Large file and registers it under torchvision's row (no network).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  TORCHVISION_WEIGHTS,
  buildModel,
  buildWithWeights,
  readCheckpoint,
  registerTorchvisionWeights,
  writeSafetensors,
} from '@mobilenet/core';
import { createSession, hubSettings, resolveWeights } from '@mobilenet/runtime-node';
import { formulaFill } from '@mobilenet/core/testing';
import { median } from '../../src/shared/stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, name: { type: 'string' } } });
const RUNS = Number(values.runs ?? 15);
let name = values.name ?? 'torchvision:mobilenet_v3_large';
let cleanup = () => {};

if (process.env.MOBILENET_BENCH_FIXTURE) {
  const home = mkdtempSync(join(tmpdir(), 'mobilenet-bench-'));
  const { graph } = buildModel({ arch: 'v3-large', convention: 'torchvision', weights: formulaFill });
  const bytes = writeSafetensors(
    Object.fromEntries(
      graph.initializers
        .filter((i) => /^(features|classifier)\./.test(i.name))
        .map((i) => [
          i.name,
          { dtype: 'F32' as const, shape: i.dims, bytes: new Uint8Array((i.data as Float32Array).buffer) },
        ]),
    ),
  );
  const file = `mobilenet_v3_large-${createHash('sha256').update(bytes).digest('hex').slice(0, 8)}.pth`;
  mkdirSync(join(home, 'hub', 'checkpoints'), { recursive: true });
  writeFileSync(join(home, 'hub', 'checkpoints', file), bytes);
  const row = TORCHVISION_WEIGHTS.find((w) => w.model === 'mobilenet_v3_large' && w.value === 'IMAGENET1K_V2')!;
  registerTorchvisionWeights({ ...row, file });
  process.env.TORCH_HOME = home;
  name = 'torchvision:mobilenet_v3_large';
  cleanup = () => rmSync(home, { recursive: true, force: true });
}

const hub = { offline: true };
const path = (await resolveWeights(name, hub)).path;
console.log(`${name}: ${path} (cache ${hubSettings().torchCheckpoints})`);

async function byName(): Promise<number> {
  const t = performance.now();
  const s = await createSession(name, { hub });
  const ms = performance.now() - t;
  await s.release();
  return ms;
}
async function byFile(): Promise<number> {
  const t = performance.now();
  const m = buildWithWeights({ arch: 'v3-large', batch: 'dynamic' }, readCheckpoint(readFileSync(path), path));
  const s = await createSession(m);
  const ms = performance.now() - t;
  await s.release();
  return ms;
}

await byName();
await byFile();
const named: number[] = [];
const local: number[] = [];
for (let i = 0; i < RUNS; i++) {
  named.push(await byName());
  local.push(await byFile());
}
const [n, f] = [median(named), median(local)];
console.log(
  `open to session, median of ${RUNS}: name ${n.toFixed(1)} ms, local file ${f.toFixed(1)} ms, ratio ${(n / f).toFixed(3)}`,
);
cleanup();
