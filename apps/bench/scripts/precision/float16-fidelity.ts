// Where float32 compute helps an fp16 file: top-1 agreement, top-5 overlap, SQNR and size against fp32 over an
// evaluation folder, for a few `toFloat16` placements (docs/precision.md, FP16).
// Usage: tsx --conditions=source scripts/precision/float16-fidelity.ts WEIGHTS_DIR EVAL_DIR [arch...]
// WEIGHTS_DIR holds tools/fixtures/quant_torch.py's v2.pth and v3-large.pth (torchvision keys).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Arch, type Float16Options, buildWithWeights, readCheckpoint, toFloat16, toOnnx } from '@mobilenet/core';
import { readImageFolder } from '@mobilenet/runtime-node';
import { logitsOf } from '@mobilenet/tools';
import { fidelity } from '../../src/shared/fidelity.js';

const [weightsDir, evalDir, ...rest] = process.argv.slice(2);
if (!weightsDir || !evalDir) throw new Error('usage: float16-fidelity.ts WEIGHTS_DIR EVAL_DIR [arch...]');
const archs = (rest.length ? rest : ['v2', 'v3-large']) as Arch[];

for (const arch of archs) {
  const file = join(weightsDir, `${arch}.pth`);
  const m = buildWithWeights({ arch, convention: 'torchvision' }, readCheckpoint(readFileSync(file), file), {
    source: file,
  });
  const pre = JSON.parse(m.graph.metadata['mobilenet.preprocessing']!);
  const images = await readImageFolder(evalDir, pre);
  const fp32 = toOnnx(m.graph);
  const ref = await logitsOf(fp32, images.tensors, pre.size, 2);
  const gaps = ref.map((r) => {
    const [a, b] = [...r].sort((x, y) => y - x);
    return a! - b!;
  });
  console.log(
    `${arch}: smallest top-1/top-2 gaps ${gaps
      .sort((a, b) => a - b)
      .slice(0, 3)
      .map((g) => g.toFixed(4))}`,
  );
  const names = m.graph.nodes.map((n) => n.name);
  const lastPool = m.graph.nodes.map((n) => n.op).lastIndexOf('GlobalAveragePool');
  const classifier = names.slice(lastPool + 1);
  const lastConvs = m.graph.nodes
    .filter((n) => n.op === 'Conv')
    .slice(-3)
    .map((n) => n.name);
  const variants: Record<string, Float16Options> = {
    'fp16 (default)': {},
    'classifier in float32': { keepNodes: classifier },
    'classifier and last 3 convs in float32': { keepNodes: [...classifier, ...lastConvs] },
    'last half of the nodes in float32': { keepNodes: names.slice(names.length >> 1) },
    'every node in float32 (float16 storage only)': { keepNodes: names },
  };
  for (const [name, options] of Object.entries(variants)) {
    const bytes = toOnnx(toFloat16(m.graph, options));
    const f = fidelity(ref, await logitsOf(bytes, images.tensors, pre.size, 2));
    console.log(
      `${arch} ${name}: SQNR ${f.sqnrDb.toFixed(2)} dB, top-1 ${(100 * f.top1Agreement).toFixed(1)}%, top-5 ${(100 * f.top5Overlap).toFixed(1)}%, max abs diff ${f.maxAbsDiff.toExponential(2)}, size ${((100 * bytes.length) / fp32.length).toFixed(1)}%`,
    );
  }
}
