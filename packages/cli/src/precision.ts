import { existsSync } from 'node:fs';
import {
  CALIBRATION_METHODS,
  type CalibrationMethod,
  type CalibrationRanges,
  type Float16Hazard,
  type Graph,
  INT8_TARGETS,
  type Int8Target,
  MobileNetError,
  escapeControls,
  quantize,
  toFloat16,
} from '@mobilenet/core';
import { preprocessingOf, readImageFolder } from '@mobilenet/runtime-node';
import { type Float16Check, calibrate, checkFloat16, probeInputs } from '@mobilenet/tools';
import { readCalibrationCache } from './calibration-cache.js';
import { checkedInt8 } from './int8-report.js';
import { optionError, quote } from './errors.js';
import type { OptionSpec, Values } from './parse.js';
import { type Io, writeFileAtomic } from './io.js';
import { Progress } from './progress.js';

export type Precision = 'fp32' | 'fp16' | 'int8';
export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int8'];

export const PRECISION_OPTIONS = {
  precision: { type: 'string', expects: `one of ${PRECISIONS.join(', ')}` },
  calibrate: { type: 'string', expects: 'a folder of calibration images' },
  'calibration-method': { type: 'string', expects: `one of ${CALIBRATION_METHODS.join(', ')}` },
  'calibration-cache': { type: 'string', expects: 'a calibration cache file (.json)' },
  'int8-target': { type: 'string', expects: `one of ${INT8_TARGETS.join(', ')}` },
  strict: { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const satisfies OptionSpec;

export const PRECISION_HELP = `  --precision P       ${PRECISIONS.join('|')} (default fp32). fp16: half-precision weights and activations, float32
                      inputs/outputs; refused, naming the node, when float16 cannot hold the model's activations on
                      probe inputs (beyond 65504, or all rounding to 0). int8: QDQ static quantization (int8 weights per channel, uint8 activations),
                      which needs calibration images or a calibration cache (docs/precision.md)
  --calibrate DIR     calibration images for int8 (at least 8; the model's own preprocessing); with fp16, images
                      that join the probes of its overflow check (real photographs reach values probes may not)
  --calibration-method M  ${CALIBRATION_METHODS.join('|')} (default percentile: 99.99% of each activation's
                      values inside its range; measured 1.3 dB better than minmax on MobileNetV2)
  --calibration-cache FILE  activation ranges as JSON: read when it exists (refused if made for another model),
                      written after calibrating otherwise
  --int8-target T     ${INT8_TARGETS.join('|')} (default portable: weights no CPU's int8 kernels saturate, AVX2 without
                      VNNI included; vnni: full-range weights, up to 1 dB better on VNNI/AMX/ARM, 10 dB worse on AVX2)
  --strict            refuse (exit 1, nothing written) an int8 model whose self-check is below its floor
                      (SQNR < 15 dB or top-1 agreement < 90% against fp32), naming the worst layer
  --verbose           with int8: the self-check's per-layer table (each int8 layer's SQNR and what it lost)`;

export interface PrecisionPlan {
  readonly precision: Precision;
  readonly method: CalibrationMethod;
  readonly target: Int8Target;
  readonly strict: boolean;
  readonly verbose: boolean;
  readonly folder?: string;
  readonly cache?: string;
}

/** Checks the precision options before any work is done; usage mistakes exit 2 saying what is needed. */
export function precisionPlan(values: Values<typeof PRECISION_OPTIONS>): PrecisionPlan {
  const precision = PRECISIONS.find((p) => p === (values.precision ?? 'fp32'));
  if (precision === undefined)
    throw optionError('--precision', `one of ${PRECISIONS.join(', ')}`, quote(values.precision!));
  const method = CALIBRATION_METHODS.find((m) => m === (values['calibration-method'] ?? 'percentile'));
  if (method === undefined)
    throw optionError(
      '--calibration-method',
      `one of ${CALIBRATION_METHODS.join(', ')}`,
      quote(values['calibration-method']!),
    );
  const target = INT8_TARGETS.find((t) => t === (values['int8-target'] ?? 'portable'));
  if (target === undefined)
    throw optionError('--int8-target', `one of ${INT8_TARGETS.join(', ')}`, quote(values['int8-target']!));
  const folder = values.calibrate;
  const cache = values['calibration-cache'];
  // fp16 takes --calibrate too: its images join the probes of the overflow check.
  const stray = (
    (precision === 'fp16' ? [] : ['calibrate']) as (
      | 'calibrate'
      | 'calibration-method'
      | 'calibration-cache'
      | 'int8-target'
      | 'strict'
    )[]
  )
    .concat(['calibration-method', 'calibration-cache', 'int8-target', 'strict'])
    .find((o) => values[o] !== undefined);
  if (precision !== 'int8' && stray)
    throw optionError(`--${stray}`, 'to be used with --precision int8 only', `--precision ${precision}`);
  if (precision === 'int8' && !folder && !(cache && existsSync(cache))) {
    const why = cache
      ? `calibration cache ${quote(cache)}, which does not exist`
      : 'neither --calibrate nor --calibration-cache';
    throw optionError(
      '--precision int8',
      'a folder of at least 8 images (--calibrate DIR) or an existing --calibration-cache FILE',
      why,
    );
  }
  return {
    precision,
    method,
    target,
    strict: values.strict === true,
    verbose: values.verbose === true,
    ...(folder && { folder }),
    ...(cache && { cache }),
  };
}

/** At most this many images for the int8 self-check: enough for SQNR to settle, few enough to be quick. */
const CHECK_IMAGES = 32;

/** The ranges, from the cache or by calibrating; calibration also hands back the first images for the check. */
async function ranges(
  graph: Graph,
  plan: PrecisionPlan,
  io: Io,
): Promise<{ ranges: CalibrationRanges; images: Float32Array[] }> {
  if (plan.cache && existsSync(plan.cache)) {
    const cached = readCalibrationCache(plan.cache, graph);
    io.err(`calibration: ranges from ${escapeControls(plan.cache)} (${cached.images} images, ${cached.method})\n`);
    return { ranges: cached, images: [] };
  }
  let bar: Progress | undefined;
  const result = await calibrate(graph, plan.folder!, {
    method: plan.method,
    keep: CHECK_IMAGES,
    onProgress: (phase, done, total) => {
      if (phase !== 'run') return;
      bar ??= new Progress(io, total, 'calibrating');
      bar.tick();
      if (done === total) bar.finish();
    },
  });
  for (const s of result.skipped) io.err(`calibration: skipped ${escapeControls(s.file)}: ${s.reason}\n`);
  io.err(`calibration: ${result.ranges.images} images from ${escapeControls(plan.folder!)} (${plan.method})\n`);
  if (plan.cache)
    await writeFileAtomic(plan.cache, new TextEncoder().encode(`${JSON.stringify(result.ranges, null, 1)}\n`));
  return { ranges: result.ranges, images: result.kept };
}

const HAZARD: Readonly<Record<Float16Hazard['kind'], string>> = {
  overflow: 'beyond float16 (65504)',
  underflow: 'all below float16 (3e-8: they round to 0)',
  'not-finite': 'not finite already in float32',
};
const describe = (h: Float16Hazard) =>
  `node '${h.node}' (${h.op})${h.tensor === h.node ? '' : ` output '${h.tensor}'`} at ${h.maxAbs.toPrecision(3)}, ${HAZARD[h.kind]}`;

/**
 * Below this the float16 file is broken, not merely rounded: measured 47-67 dB where float16 holds a model, 0 dB
 * where its activations vanish (docs/precision.md, FP16).
 */
export const FP16_FLOOR_DB = 20;

/** The first hazard of each kind (the rest usually follow from it), and how many more there are. */
function firstOfEach(hazards: readonly Float16Hazard[]): string {
  const first = [...new Map(hazards.map((h) => [h.kind, h] as const).reverse()).values()].reverse();
  const more = hazards.length - first.length;
  return `${first.map(describe).join('; ')}${more ? `; ${more} more nodes after` : ''}`;
}

/**
 * What refuses a float16 file: an overflow anywhere (a GPU computing in float16 gives infinity, then NaN), a
 * non-finite value, an output that float16 rounds to 0 entirely. An inner tensor that rounds to 0 is only reported:
 * in a residual branch beside a larger skip it changes nothing float16 could show.
 */
function fatalHazards(graph: Graph, check: Float16Check): Float16Hazard[] {
  const outputs = new Set(graph.outputs.map((o) => o.name));
  return check.hazards.filter((h) => h.kind !== 'underflow' || outputs.has(h.tensor));
}

function refusal(graph: Graph, check: Float16Check, fatal: readonly Float16Hazard[]): MobileNetError {
  const inner = check.hazards.filter((h) => !fatal.includes(h));
  const parts = [
    ...(fatal.length ? [firstOfEach(fatal)] : []),
    ...(check.nonFiniteOutputs.length ? [`float16 output ${check.nonFiniteOutputs.join(', ')} not finite`] : []),
    ...(check.sqnrDb >= FP16_FLOOR_DB
      ? []
      : [
          `float16 outputs ${check.sqnrDb.toFixed(1)} dB from float32's on CPU (at least ${FP16_FLOOR_DB} dB expected)`,
        ]),
    ...(inner.length ? [`the first inner tensor that float16 cannot hold: ${firstOfEach(inner)}`] : []),
  ];
  const seeded = JSON.parse(graph.metadata['mobilenet.config'] ?? '{}').weights === 'seeded';
  return new MobileNetError(
    'float16',
    `--precision fp16 of model '${graph.name}'`,
    `activations that float16 holds on ${check.probes} probe inputs`,
    parts.join('; '),
    seeded
      ? "seeded weights (torchvision's initialisation) make activations vanish or grow in eval mode: export a checkpoint (--weights) at fp16, or use fp32"
      : 'the float32 weights make values float16 cannot represent: export fp32 (or int8), or check the weights',
  );
}

/**
 * The float16 graph, refused when float16 cannot hold the model on probe inputs (runtime-node's checkFloat16; the
 * rule is `fatalHazards`), or when onnxruntime's CPU run of it is non-finite or far from float32's. The error names
 * the first nodes. The CPU run is a second opinion only: onnxruntime computes some float16 ops in float32 there and
 * drops the Casts around them, so the float32 magnitudes are the verdict.
 */
async function checkedFloat16(graph: Graph, plan: PrecisionPlan, io: Io): Promise<Graph> {
  const half = toFloat16(graph);
  const pre = preprocessingOf(graph.metadata, graph.name, 'float16');
  const folder = plan.folder ? await readImageFolder(plan.folder, pre) : undefined;
  for (const s of folder?.skipped ?? []) io.err(`fp16: skipped ${escapeControls(s.file)}: ${s.reason}\n`);
  const check = await checkFloat16(graph, half, { images: folder?.tensors ?? [] });
  const fatal = fatalHazards(graph, check);
  if (fatal.length || check.nonFiniteOutputs.length || !(check.sqnrDb >= FP16_FLOOR_DB))
    throw refusal(graph, check, fatal);
  const inner = check.hazards.length ? `; not refused: ${firstOfEach(check.hazards)}` : '';
  io.err(
    `fp16: on ${check.probes} probe inputs${folder ? ` (${folder.tensors.length} images from ${plan.folder})` : ''} no overflow, outputs ${check.sqnrDb.toFixed(1)} dB from fp32's on CPU${inner}\n`,
  );
  return half;
}

/** The graph at the planned precision, with metadata saying how it was made. */
export async function applyPrecision(graph: Graph, plan: PrecisionPlan, io: Io): Promise<Graph> {
  if (plan.precision === 'fp32') return graph;
  if (plan.precision === 'fp16') return checkedFloat16(graph, plan, io);
  const { ranges: r, images } = await ranges(graph, plan, io);
  const q = quantize(graph, r, { target: plan.target });
  const calibration = JSON.stringify({
    method: r.method,
    ...(r.percentile !== undefined && { percentile: r.percentile }),
    images: r.images,
  });
  const report = await checkedInt8(graph, q, await checkInputs(graph, plan, images, io), plan, io);
  return {
    ...q,
    metadata: { ...q.metadata, 'mobilenet.calibration': calibration, 'mobilenet.int8.check': JSON.stringify(report) },
  };
}

/**
 * The self-check's inputs: the first calibration images (up to 32, kept by calibrate); with a cache and a folder, the
 * folder's first images; with a cache alone, the probes.
 */
async function checkInputs(
  graph: Graph,
  plan: PrecisionPlan,
  calibrated: Float32Array[],
  io: Io,
): Promise<{ inputs: Float32Array[]; source: string }> {
  const pre = preprocessingOf(graph.metadata, graph.name, 'int8 check');
  if (!plan.folder) {
    io.err('int8 check: no --calibrate folder, so 2 probe inputs (noise and a smooth pattern), not photographs\n');
    return { inputs: probeInputs(pre), source: 'probe inputs' };
  }
  const inputs = calibrated.length
    ? calibrated
    : (await readImageFolder(plan.folder, pre)).tensors.slice(0, CHECK_IMAGES);
  return { inputs, source: `${inputs.length} calibration images from ${plan.folder}` };
}
