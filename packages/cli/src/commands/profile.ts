import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { type Graph, buildModel, fromOnnx, toOnnx } from '@mobilenet/core';
import {
  type BatchStats,
  createSession,
  formatProfile,
  profileModel,
  shareChart,
  stagesChart,
} from '@mobilenet/runtime-node';
import { MODEL_OPTIONS, modelHelp, SEED_OPTION, initialiser, modelOptions, parse } from '../args.js';
import { NAMES_HELP, OFFLINE_OPTION, isWeightsName, loadNamed } from '../pretrained.js';
import { optionError, quote, quotePath } from '../errors.js';
import { type Io, writeFileAtomic } from '../io.js';
import { readModelFile } from '../model-file.js';
import { between, integer } from '../numbers.js';
import type { OptionSpec, Values } from '../parse.js';

export const PROFILE_HELP = `Usage: mobilenet profile (FILE.onnx | NAME | --arch A [model options]) [options]

Where the time goes: onnxruntime's profiler (CPU) over repeated runs, each block's and each kind of operation's
share of kernel time next to its share of MACs (the measured counterpart of MobileNet v1's Table 2).
  --runs N        timed runs after 3 warm-up runs (default 20)
  --threads N     intra-op threads (default: onnxruntime's choice)
  --batch N       batch for a model with a dynamic batch (default 1)
  --images DIR    also classify the images in DIR through the pipeline: per image, the JavaScript thread's time
                  in the model, preprocessing, waiting for decodes and postprocessing, and the decodes' latency
  --svg PREFIX    write PREFIX-ops.svg, PREFIX-layers.svg (and PREFIX-stages.svg with --images)
  --json          one JSON object: {kernelMs, ops, layers, stages}
  --offline       a pretrained NAME from the cache only

${NAMES_HELP}

${modelHelp('FILE.onnx|NAME')}
`;

const PROFILE_OPTIONS = {
  ...MODEL_OPTIONS,
  ...SEED_OPTION,
  runs: { type: 'string', expects: 'an integer from 1 to 10000' },
  threads: { type: 'string', expects: 'an integer from 1 to 256' },
  batch: { type: 'string', expects: 'an integer from 1 to 1024' },
  images: { type: 'string', expects: 'a folder of images' },
  svg: { type: 'string', expects: 'a path prefix for the SVG files' },
  json: { type: 'boolean' },
  ...OFFLINE_OPTION,
} as const satisfies OptionSpec;

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif']);

async function loadModel(
  file: string | undefined,
  values: Values<typeof PROFILE_OPTIONS>,
  io: Io,
): Promise<{ bytes: Uint8Array; graph: Graph }> {
  if (file !== undefined && isWeightsName(file)) {
    if (values.arch) throw optionError('--arch/NAME', 'either --arch or a pretrained name', 'both');
    const { graph } = await loadNamed(file, { batch: 'dynamic' }, values, io, 'profile');
    return { bytes: toOnnx(graph), graph };
  }
  if (file !== undefined) {
    if (values.arch) throw optionError('--arch/FILE', 'either --arch or an ONNX file', 'both');
    if (!existsSync(file)) throw optionError(`argument ${quote(file)}`, 'an existing .onnx file', 'no such file');
    const bytes = readModelFile(file);
    return { bytes, graph: fromOnnx(bytes, file).graph };
  }
  if (!values.arch) throw optionError('FILE/--arch', 'an ONNX file or --arch A', 'neither');
  const { graph } = buildModel({ ...modelOptions(values), weights: initialiser(values, 'fan-in'), batch: 'dynamic' });
  return { bytes: toOnnx(graph), graph };
}

function imageFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw optionError('--images', 'a folder of images', `${quotePath(dir)}, not a folder`);
  const files = readdirSync(dir)
    .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(dir, f));
  if (files.length === 0)
    throw optionError('--images', `a folder with images (${[...IMAGE_EXT].join(' ')})`, `none in ${quotePath(dir)}`);
  return files;
}

/**
 * Per image, the JavaScript thread's time by stage (they add up to the run's time per image), and the decode's
 * latency on libvips' threads, which overlaps them.
 */
async function stages(
  bytes: Uint8Array,
  files: string[],
  threads: number | undefined,
): Promise<{ thread: Record<string, number>; decodeLatency: number }> {
  const session = await createSession(bytes, { ...(threads && { threads }), spinning: false });
  const stats: BatchStats[] = [];
  try {
    for await (const _ of session.classifyAll(files, { onBatch: (s) => stats.push(s) }));
  } finally {
    await session.release();
  }
  const per = (k: keyof BatchStats) => stats.reduce((a, s) => a + s[k], 0) / files.length;
  // Preprocessing runs on this thread while it waits for decodes: it is part of the wait, shown apart.
  const wait = per('waitMs');
  const pre = Math.min(per('preprocessMs'), wait);
  return {
    thread: {
      'model run': per('runMs'),
      preprocess: pre,
      'waiting for decodes': wait - pre,
      postprocess: per('postMs'),
    },
    decodeLatency: per('decodeMs'),
  };
}

/** Fewer images than this make the per-image stage times a small sample (said, not refused). */
const FEW_IMAGES = 10;

/** Writes the SVG charts beside PREFIX and says which files it wrote. */
async function writeCharts(
  prefix: string,
  name: string,
  p: { ops: Parameters<typeof shareChart>[0]; layers: Parameters<typeof shareChart>[0] },
  thread: Record<string, number> | undefined,
  io: Io,
): Promise<void> {
  const charts: [string, string][] = [
    [`${prefix}-ops.svg`, shareChart(p.ops, `${name}: time vs MACs by operation`)],
    [`${prefix}-layers.svg`, shareChart(p.layers, `${name}: time vs MACs by block`)],
  ];
  if (thread)
    charts.push([
      `${prefix}-stages.svg`,
      stagesChart(thread, `${name}: time per image on the JavaScript thread (decodes overlap on libvips' threads)`),
    ]);
  for (const [file, svg] of charts) await writeFileAtomic(file, new TextEncoder().encode(svg));
  io.err(`mobilenet profile: wrote ${charts.map(([f]) => f).join(', ')}\n`);
}

export async function profile(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, PROFILE_OPTIONS, true);
  if (values.help) return (io.out(PROFILE_HELP), 0);
  if (positionals.length > 1)
    throw optionError(
      'argument FILE',
      'one ONNX file',
      `${positionals.length}: ${positionals.map((p) => quote(p)).join(' ')}`,
    );
  const runs = integer('runs', values.runs, between(1, 10000)) ?? 20;
  const threads = integer('threads', values.threads, between(1, 256));
  const batch = integer('batch', values.batch, between(1, 1024)) ?? 1;
  const { bytes, graph } = await loadModel(positionals[0], values, io);
  const files = values.images !== undefined ? imageFiles(values.images) : undefined;
  const p = await profileModel(bytes, graph, {
    runs,
    batch,
    options: { executionProviders: ['cpu'], ...(threads && { intraOpNumThreads: threads }) },
  });
  const st = files ? await stages(bytes, files, threads) : undefined;
  if (files && files.length < FEW_IMAGES)
    io.err(
      `mobilenet profile: warning: only ${files.length} image${files.length === 1 ? '' : 's'} in ${values.images}: ` +
        `the pipeline stages are averaged over few samples (the first batch also pays for start-up); ${FEW_IMAGES} or more give steadier figures\n`,
    );
  if (values.svg) await writeCharts(values.svg, graph.name, p, st?.thread, io);
  if (values.json) {
    io.out(
      `${JSON.stringify({ model: graph.name, ...p, ...(st && { stages: st.thread, decodeLatencyMs: st.decodeLatency }) }, null, 2)}\n`,
    );
    return 0;
  }
  io.out(
    `${graph.name}: ${p.kernelMs.toFixed(2)} ms of kernels per run (batch ${p.batch}, each kernel's median over ${p.runs} runs, CPU${threads ? `, ${threads} threads` : ''})\n\n`,
  );
  io.out(`${formatProfile(p.ops, 'operation')}\n\n${formatProfile(p.layers, 'block')}\n`);
  if (st) {
    const lines = Object.entries(st.thread).map(([k, v]) => `  ${k.padEnd(26)}${v.toFixed(2).padStart(8)}`);
    io.out(`\npipeline stages, ms per image on the JavaScript thread:\n${lines.join('\n')}\n`);
    io.out(
      `  (each decode took ${st.decodeLatency.toFixed(2)} ms from start to pixels on libvips' threads, overlapping the above)\n`,
    );
  }
  return 0;
}
