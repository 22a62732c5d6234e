// Where INT8 time goes: fp32 against int8 files on onnxruntime-node CPU, paired and alternating (fp32 first on even
// pairs, int8 first on odd ones), then both sessions under onnxruntime's profiler, also alternating, with each
// kernel's median summed per kind of op (convs told apart as 1x1 / dw3x3 / dw5x5 / 3x3, squeeze-excite 1x1s apart)
// and per block. Prints SQNR and top-1 agreement over the evaluation folder too.
// Usage: tsx --conditions=source scripts/precision/int8-profile.ts ARCH WEIGHTS.pth CALIB_DIR EVAL_DIR [CANDIDATE...]
//   [--runs N] [--profile N] [--threads N] [--spin] [--stretch K] [--blocks]
// CANDIDATE: int8 (quantize's defaults), int8-nopad (padDepthwise 0), fp32 (a second fp32 session: the noise
// floor), or a path to an .onnx file. Calibration ranges are cached beside the weights (WEIGHTS.ARCH-ranges.json).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Arch, type CalibrationRanges, buildWithWeights, quantize, readCheckpoint, toOnnx } from '@mobilenet/core';
import { readImageFolder } from '@mobilenet/runtime-node';
import * as ort from 'onnxruntime-node';
import { calibrate } from '@mobilenet/tools';
import { fidelity } from '../../src/shared/fidelity.js';
import { cpuOptions } from '../../src/shared/ort-options.js';
import { median } from '../../src/shared/stats.js';

const args = process.argv.slice(2);
const flag = (f: string, d: number) => (args.includes(f) ? Number(args[args.indexOf(f) + 1]) : d);
const positional = args.filter(
  (a, i) => !a.startsWith('--') && !['--runs', '--profile', '--threads', '--stretch'].includes(args[i - 1]!),
);
const [arch, weights, calibDir, evalDir, ...candidates] = positional as [Arch, string, string, string, ...string[]];
const runs = flag('--runs', 150);
const profileRuns = flag('--profile', 0);
const threads = flag('--threads', 2);
const stretch = flag('--stretch', 1);

const model = buildWithWeights({ arch, convention: 'torchvision' }, readCheckpoint(readFileSync(weights), weights), {
  source: weights,
});
const pre = JSON.parse(model.graph.metadata['mobilenet.preprocessing']!);
const cache = `${weights}.${arch}-ranges.json`;
const ranges: CalibrationRanges = existsSync(cache)
  ? JSON.parse(readFileSync(cache, 'utf8'))
  : (await calibrate(model.graph, calibDir, { method: 'percentile', percentile: 99.99 })).ranges;
writeFileSync(cache, JSON.stringify(ranges));
const evalSet = await readImageFolder(evalDir, pre);

const options = (extra: ort.InferenceSession.SessionOptions = {}) =>
  cpuOptions({ threads, spinning: args.includes('--spin') }, extra);
const feeds = (x: Float32Array) => ({ input: new ort.Tensor('float32', x, [1, 3, pre.size, pre.size]) });

/** SQNR and top-1 agreement against fp32, rounded for the JSON line. */
function agreement(ref: Float32Array[], cand: Float32Array[]) {
  const f = fidelity(ref, cand);
  return { sqnr: +f.sqnrDb.toFixed(2), top1: +f.top1Agreement.toFixed(3) };
}

// Conv kinds by node name, from the float graph (onnxruntime keeps our names, adding suffixes; a fused fp32 conv
// takes its activation's name).
const kinds = new Map<string, string>();
const FUSED = new Set(['BatchNormalization', 'Relu', 'Clip', 'HardSwish', 'HardSigmoid']);
const dims = new Map(model.graph.initializers.map((i) => [i.name, i.dims]));
for (const n of model.graph.nodes.filter((n) => n.op === 'Conv')) {
  const w = dims.get(n.inputs[1]!)!;
  const kind = w[2] === 1 ? 'conv 1x1' : `conv ${Number(n.attrs.group?.value ?? 1) > 1 ? 'dw' : ''}${w[2]}x${w[3]}`;
  // The conv, its BatchNorm and the activation after that: onnxruntime names a fused kernel after any of them.
  let names = [n];
  for (let hop = 0; hop < 2; hop++) {
    names = model.graph.nodes.filter((r) => names.some((m) => r.inputs[0] === m.outputs[0]) && FUSED.has(r.op));
    for (const r of names) kinds.set(r.name, kind);
  }
  kinds.set(n.name, kind);
}
interface TraceEvent {
  cat?: string;
  name: string;
  dur: number;
  args?: { op_name?: string; output_type_shape?: Record<string, number[]>[] };
}
function kindOf(e: TraceEvent): string {
  const base = e.name.replace(/_kernel_time$/, '').replace(/(_nchwc|_token_\d+)+$/, '');
  const kind = /Conv$/.test(e.args?.op_name ?? '') ? kinds.get(base) : undefined;
  if (!kind) return e.args?.op_name ?? '?';
  const shape = Object.values(e.args?.output_type_shape?.[0] ?? {})[0] ?? [];
  const pooled = shape.length === 4 && shape.filter((d) => d === 1).length === 3;
  return pooled ? `${kind} (squeeze-excite)` : kind;
}
function summarize(dir: string) {
  const file = readdirSync(dir).find((f) => f.endsWith('.json'))!;
  const events = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[]).filter(
    (e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'),
  );
  const perKernel = new Map<string, { e: TraceEvent; durations: number[] }>();
  for (const e of events) {
    const k = perKernel.get(e.name) ?? { e, durations: [] };
    k.durations.push(e.dur);
    perKernel.set(e.name, k);
  }
  const byKind = new Map<string, { ms: number; n: number }>();
  const byBlock = new Map<string, number>();
  let total = 0;
  for (const { e, durations } of perKernel.values()) {
    const ms = median(durations.slice(5)) / 1000; // 5 warm-up runs dropped
    const row = byKind.get(kindOf(e)) ?? { ms: 0, n: 0 };
    byKind.set(kindOf(e), { ms: row.ms + ms, n: row.n + 1 });
    const block = /^(features\.\d+|classifier|blocks\.\d+)/.exec(e.name)?.[1] ?? '(other)';
    byBlock.set(block, (byBlock.get(block) ?? 0) + ms);
    total += ms;
  }
  return { total, byKind, byBlock };
}
async function profilePair(fp32: Uint8Array, cand: Uint8Array, x: Float32Array) {
  const dirs = [mkdtempSync(join(tmpdir(), 'int8-profile-')), mkdtempSync(join(tmpdir(), 'int8-profile-'))];
  const sessions = await Promise.all(
    [fp32, cand].map((b, i) =>
      ort.InferenceSession.create(b, options({ enableProfiling: true, profileFilePrefix: join(dirs[i]!, 'p') })),
    ),
  );
  for (let i = 0; i < 5 + profileRuns; i++)
    for (const s of i % 2 ? sessions : [...sessions].reverse()) await s.run(feeds(x));
  for (const s of sessions) {
    s.endProfiling();
    await s.release();
  }
  const out = [summarize(dirs[0]!), summarize(dirs[1]!)] as const;
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  return out;
}

const fp32 = toOnnx(model.graph);
const ref = await ort.InferenceSession.create(fp32, options());
const refLogits: Float32Array[] = [];
for (const x of evalSet.tensors) refLogits.push((await ref.run(feeds(x))).logits!.data as Float32Array);
const profiles: Record<string, ReturnType<typeof summarize>> = {};
const x0 = evalSet.tensors[0]!;
for (const name of candidates) {
  const bytes =
    name === 'int8'
      ? toOnnx(quantize(model.graph, ranges))
      : name === 'int8-nopad'
        ? toOnnx(quantize(model.graph, ranges, { padDepthwise: 0 }))
        : name === 'int8-vnni'
          ? toOnnx(quantize(model.graph, ranges, { target: 'vnni' }))
          : name === 'fp32'
            ? fp32
            : new Uint8Array(readFileSync(name));
  const s = await ort.InferenceSession.create(bytes, options());
  const cand: Float32Array[] = [];
  for (const x of evalSet.tensors) cand.push((await s.run(feeds(x))).logits!.data as Float32Array);
  for (let i = 0; i < 20; i++) for (const t of [ref, s]) await t.run(feeds(x0));
  const ta: number[] = [];
  const tb: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const times = new Map<ort.InferenceSession, number>();
    for (const t of i % 2 ? [s, ref] : [ref, s]) {
      // --stretch K: K runs in a row per session (the block's median), for spinning thread pools, which would
      // otherwise spin on the cores the other session needs.
      const block: number[] = [];
      for (let k = 0; k < stretch; k++) {
        const start = performance.now();
        await t.run(feeds(x0));
        block.push(performance.now() - start);
      }
      times.set(t, median(block.slice(stretch >> 1)));
    }
    ta.push(times.get(ref)!);
    tb.push(times.get(s)!);
    ratios.push(times.get(ref)! / times.get(s)!);
  }
  await s.release();
  console.log(
    JSON.stringify({
      arch,
      candidate: name,
      threads,
      pairs: runs,
      fp32ms: +median(ta).toFixed(2),
      ms: +median(tb).toFixed(2),
      speedup: +(median(ta) / median(tb)).toFixed(2),
      pairedSpeedup: +median(ratios).toFixed(2),
      size: +(bytes.length / fp32.length).toFixed(3),
      ...agreement(refLogits, cand),
    }),
  );
  if (profileRuns) [profiles[`fp32 (vs ${name})`], profiles[name]] = await profilePair(fp32, bytes, x0);
}
await ref.release();
if (profileRuns) {
  const columns = Object.keys(profiles);
  const table = (rows: string[], cell: (c: string, r: string) => string) => {
    console.log(['', ...columns].join('\t'));
    for (const r of rows) console.log([r, ...columns.map((c) => cell(c, r))].join('\t'));
    console.log(['total ms', ...columns.map((c) => profiles[c]!.total.toFixed(3))].join('\t'));
  };
  const kindRows = [...new Set(columns.flatMap((c) => [...profiles[c]!.byKind.keys()]))].sort();
  table(kindRows, (c, r) => {
    const v = profiles[c]!.byKind.get(r);
    return v ? `${v.ms.toFixed(3)} (${v.n})` : '-';
  });
  if (args.includes('--blocks')) {
    const blockRows = [...new Set(columns.flatMap((c) => [...profiles[c]!.byBlock.keys()]))];
    table(blockRows, (c, r) => profiles[c]!.byBlock.get(r)?.toFixed(3) ?? '-');
  }
}
