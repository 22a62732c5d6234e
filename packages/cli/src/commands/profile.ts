import { existsSync, statSync } from 'node:fs';
import {
  type Graph,
  MAX_INPUT_SIZE,
  buildModel,
  checkModelOps,
  fromOnnx,
  summarizeOnnx,
  toOnnx,
} from '@mobilenet/core';
import { type BatchStats, FILE_CAPS, type ImageInput, createSession } from '@mobilenet/runtime-node';
import { formatProfile, profileModel, shareChart, stagesChart } from '@mobilenet/tools';
import { MODEL_OPTIONS, SEED_OPTION, initialiser, modelHelp, modelOptions, parse } from '../args.js';
import { IMAGE_EXTENSIONS, listImages } from '../collection.js';
import { NAMES_HELP, OFFLINE_OPTION, isWeightsName, loadNamed } from '../pretrained.js';
import { optionError, quote, quotePath } from '../errors.js';
import { type Io, readInput, writeFileAtomic } from '../io.js';
import { refuseCheckpoint } from '../model-file.js';
import { between, integer } from '../numbers.js';
import type { OptionSpec, Values } from '../parse.js';
import { profilePipeline } from './profile-pipeline.js';

/** Most values in the profiled input: 2^26 float32 (256 MB), batch 444 at 224x224; the activations weigh more. */
export const MAX_PROFILE_INPUT = 2 ** 26;

export const PROFILE_HELP = `Usage: mobilenet profile (FILE.onnx | NAME | --arch A [model options]) [options]

Where the time goes: onnxruntime's profiler (CPU) over repeated runs, each block's and each kind of operation's
share of kernel time next to its share of MACs (the measured counterpart of MobileNet v1's Table 2).
  --runs N        timed runs after 3 warm-up runs (default 20)
  --threads N     intra-op threads (default: onnxruntime's choice)
  --batch N       batch for a model with a dynamic batch (default 1)
  --images DIR    also classify the images in DIR through the pipeline: per image, the JavaScript thread's time
                  in the model, preprocessing, waiting for decodes and postprocessing, and the decodes' latency
  --pipeline DIR  instead of the operator profile, the folder pipeline over DIR as a timeline: each image's decode
                  and preprocessing, each batch's run, and every thread's CPU every 10 ms (Linux's /proc), grouped
                  (JavaScript, onnxruntime, libvips, libuv pool, other); then CPU per image by group, cores busy,
                  where the JavaScript thread waits, and the share of inference-only throughput reached against
                  the share its CPU per image allows (--batch: the pipeline's batch, default automatic; --runs:
                  timed inference-only runs, default 5)
  --svg PREFIX    write PREFIX-ops.svg, PREFIX-layers.svg (and PREFIX-stages.svg with --images), or with
                  --pipeline PREFIX-timeline.svg
  --json          one JSON object: {kernelMs, ops, layers, stages}, or with --pipeline {summary, timeline}
  --offline       a pretrained NAME from the cache only
  --allow-any-op  accept a model with ops beyond an image classifier's (control flow, custom domains)

Caps, lifted by --allow-large: an input side up to ${MAX_INPUT_SIZE}, batch x channels x height x width up to
${MAX_PROFILE_INPUT} values (256 MB of float32 input), a model of up to 20000 nodes.

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
  pipeline: { type: 'string', expects: 'a folder of images' },
  svg: { type: 'string', expects: 'a path prefix for the SVG files' },
  json: { type: 'boolean' },
  ...OFFLINE_OPTION,
  'allow-any-op': { type: 'boolean' },
} as const satisfies OptionSpec;

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
    const bytes = readInput(file, 'an .onnx file', 'argument FILE', FILE_CAPS.model);
    refuseCheckpoint(bytes, file, 'argument FILE');
    // Ops and node count before our reader builds the graph or onnxruntime starts it (200,000 nodes took > 30 s).
    checkModelOps(summarizeOnnx(bytes, file), file, {
      allowAnyOp: values['allow-any-op'] === true,
      ...(values['allow-large'] === true && { maxNodes: Number.MAX_SAFE_INTEGER }),
    });
    return { bytes, graph: fromOnnx(bytes, file).graph };
  }
  if (!values.arch) throw optionError('FILE/--arch', 'an ONNX file or --arch A', 'neither');
  const { graph } = buildModel({ ...modelOptions(values), weights: initialiser(values, 'fan-in'), batch: 'dynamic' });
  return { bytes: toOnnx(graph), graph };
}

/** The input profiled, within the caps unless --allow-large: a side up to 4096, batch x C x H x W values capped. */
function checkInputSize(graph: Graph, batch: number, file: string, values: Values<typeof PROFILE_OPTIONS>): void {
  if (values['allow-large'] === true) return;
  const [b, c, h, w] = graph.inputs[0]?.type.shape ?? [];
  if (typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') return; // profileModel names it
  const n = typeof b === 'number' ? b : batch;
  const what = `${quote(file)} with input [${n}, ${c}, ${h}, ${w}]`;
  if (Math.max(h, w) > MAX_INPUT_SIZE)
    throw optionError('FILE', `an input side up to ${MAX_INPUT_SIZE} (pass --allow-large for more)`, what);
  if (n * c * h * w > MAX_PROFILE_INPUT)
    throw optionError(
      '--batch',
      `batch x channels x height x width up to ${MAX_PROFILE_INPUT} (pass --allow-large for more)`,
      `${n * c * h * w} for ${what}`,
    );
}

/**
 * The images of --images or --pipeline DIR, listed as classify lists a folder (links followed; a FIFO or device is
 * named later).
 */
function imageFiles(dir: string, option = '--images'): ImageInput[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw optionError(option, 'a folder of images', `${quotePath(dir)}, not a folder`);
  const { files } = listImages([dir], false);
  if (files.length === 0)
    throw optionError(option, `a folder with images (${[...IMAGE_EXTENSIONS].join(' ')})`, `none in ${quotePath(dir)}`);
  return files;
}

/**
 * Per image, the JavaScript thread's time by stage (they add up to the run's time per image), and the decode's
 * latency on libvips' threads, which overlaps them.
 */
async function stages(
  bytes: Uint8Array,
  files: ImageInput[],
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
  const runs = integer('runs', values.runs, between(1, 10000));
  const threads = integer('threads', values.threads, between(1, 256));
  const batch = integer('batch', values.batch, between(1, 1024));
  if (values.pipeline !== undefined && values.images !== undefined)
    throw optionError('--images/--pipeline', 'one of them', 'both');
  const folder = values.pipeline !== undefined ? imageFiles(values.pipeline, '--pipeline') : undefined;
  const { bytes, graph } = await loadModel(positionals[0], values, io);
  // The pipeline's automatic batch goes up to 16.
  checkInputSize(graph, batch ?? (values.pipeline !== undefined ? 16 : 1), positionals[0] ?? graph.name, values);
  if (folder && values.pipeline !== undefined) {
    const o = { dir: values.pipeline, runs: runs ?? 5, json: values.json === true };
    const extra = { ...(threads && { threads }), ...(batch && { batch }), ...(values.svg && { svg: values.svg }) };
    return profilePipeline(bytes, graph, folder, { ...o, ...extra }, io);
  }
  const files = values.images !== undefined ? imageFiles(values.images) : undefined;
  const p = await profileModel(bytes, graph, {
    runs: runs ?? 20,
    batch: batch ?? 1,
    ...(positionals[0] !== undefined && { name: `model ${quotePath(positionals[0])}` }),
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
