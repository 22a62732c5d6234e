// The quick start's main job (until apps/bench takes over): build every default MobileNet with seeded weights,
// write it as ONNX, load it in onnxruntime-node and run it, printing what each step cost.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHS, analyze, buildModel, conventionFor, toOnnx } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';

const outDir = join(import.meta.dirname, '..', 'out');
mkdirSync(outDir, { recursive: true });
const rows: string[][] = [
  ['arch', 'convention', 'params', 'MACs', 'file', 'build ms', 'write ms', 'load ms', 'run ms (p50 of 20)', 'logits'],
];
for (const arch of ARCHS) {
  let t = performance.now();
  // torchvision's convention where the family has one (v1-v3), else the family's own (timm's for v4).
  const { graph, config } = buildModel({ arch, convention: conventionFor(arch, 'torchvision'), weights: 0 });
  const build = performance.now() - t;
  t = performance.now();
  const bytes = toOnnx(graph);
  const write = performance.now() - t;
  const file = join(outDir, `${graph.name}.onnx`);
  writeFileSync(file, bytes);
  t = performance.now();
  const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
  const load = performance.now() - t;
  const r = config.resolution;
  const input = new ort.Tensor(
    'float32',
    new Float32Array(3 * r * r).map((_, i) => Math.sin(i) * 2),
    [1, 3, r, r],
  );
  const times: number[] = [];
  let logits: ort.Tensor | undefined;
  for (let i = 0; i < 22; i++) {
    t = performance.now();
    logits = (await session.run({ input })).logits;
    if (i >= 2) times.push(performance.now() - t);
  }
  await session.release();
  times.sort((a, b) => a - b);
  const a = analyze(graph);
  rows.push([
    arch,
    config.convention,
    `${(a.params / 1e6).toFixed(2)} M`,
    `${(a.macs / 1e6).toFixed(1)} M`,
    `${(bytes.length / 2 ** 20).toFixed(1)} MiB`,
    build.toFixed(0),
    write.toFixed(0),
    load.toFixed(0),
    times[10]!.toFixed(2),
    `[${logits!.dims.join(', ')}]`,
  ]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
for (const row of rows)
  console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
console.log(
  `\nONNX files in ${outDir} (torchvision's convention where the family has one, else its own; seeded random weights: the logits carry no meaning).`,
);
