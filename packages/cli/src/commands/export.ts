import {
  DEFAULT_OPSET,
  type Graph,
  MAX_OPSET,
  MIN_OPSET,
  type Model,
  type ModelOptions,
  TARGETS,
  type Target,
  WEIGHTS_FORMATS,
  type WeightsFormat,
  analyze,
  buildModel,
  buildWithWeights,
  escapeControls,
  foldBatchNorm,
  METADATA_KEYS,
  readCheckpoint,
  toOnnx,
  withGraphPostprocess,
  withLabels,
} from '@mobilenet/core';
import { FILE_CAPS } from '@mobilenet/runtime-node';
import type { OptionSpec } from '../parse.js';
import { MODEL_OPTIONS, SEED_OPTION, initialiser, modelHelp, modelOptions, namedModelOptions, parse } from '../args.js';
import { NAMES_HELP, OFFLINE_OPTION, isWeightsName, loadNamed } from '../pretrained.js';
import { optionError, quote, quotePath } from '../errors.js';
import { type Io, checkOutputPath, readInput, writeFileAtomic } from '../io.js';
import { LABELS_HELP, LABELS_OPTION, readLabels } from '../labels.js';
import { between, integer } from '../numbers.js';
import { PRECISION_HELP, PRECISION_OPTIONS, type Precision, applyPrecision, precisionPlan } from '../precision.js';
import { TRITON_HELP, TRITON_OPTIONS, tritonChoice, writeTriton } from '../triton.js';

export const EXPORT_HELP = `Usage: mobilenet export (--arch A [model options] | --weights NAME) (-o OUT.onnx | --triton REPO) [--opset N] [--seed N] [--batch N|dynamic] [--target T] [--force]

Writes the model as an ONNX file, atomically. Weights: torchvision's initialisation, seeded (same seed, same bytes).
  -o, --output FILE   the .onnx file to write (its folder must exist)
  --opset N           ONNX opset, ${MIN_OPSET}-${MAX_OPSET} (default ${DEFAULT_OPSET}; 20 for an int8 model with GELU)
  --seed N            weight initialisation seed (default 0)
  --batch N|dynamic   input batch dimension (default 1)
  --target T          ${TARGETS.join('|')}: the reader the file is for (default onnxruntime); opencv rewrites
                      what OpenCV 4.6 DNN mis-reads (ReLU6's Clip, the squeeze-excite Mul), see docs/elsewhere.md
  --force             overwrite OUT if it is a regular file (a link, folder, FIFO or device is never replaced)
  --weights FILE|NAME|URL  load a checkpoint: torchvision .pth or timm .safetensors/.pth (keys checked, classes read
                      from it; without --convention, the convention follows the key layout, and is said); or a
                      pretrained NAME (no --arch: the name says it; the file records the weights' name, URL, sha256,
                      license, categories and preprocessing); or an https:// URL of a checkpoint (with --arch)
  --offline           a pretrained NAME or URL from the cache only
  --weights-format F  ${WEIGHTS_FORMATS.join('|')}|auto (default auto: detected from the keys, and said)
  --fold-bn           fold BatchNorm into the preceding convs (inference-only file, same outputs)
${LABELS_HELP}: stored in the
                      file's metadata, where classify reads them (default: ImageNet's for 1000 or 1001 classes)
  --postprocess P     graph|none, detection models only (ssdlite320-v3-large; default graph, none for --target
                      opencv and --triton, which cannot run it): graph puts SSD's
                      decode, score threshold, per-class top-k and NonMaxSuppression in the file (outputs
                      detection_boxes/scores/labels/count; inputs score_threshold, iou_threshold, max_detections
                      fed at run time); none ends at the raw heads bbox_regression and cls_logits
  --no-embedding      output only 'logits' (by default the file also outputs the pooled features as 'embedding',
                      for mobilenet embed; not for --target opencv)
${PRECISION_HELP}
${TRITON_HELP}

${NAMES_HELP}

${modelHelp('a pretrained --weights NAME')}
`;

const EXPORT_OPTIONS = {
  ...MODEL_OPTIONS,
  ...SEED_OPTION,
  output: { type: 'string', short: 'o', expects: 'the .onnx file to write' },
  opset: { type: 'string', expects: `an integer from ${MIN_OPSET} to ${MAX_OPSET}` },
  target: { type: 'string', expects: `one of ${TARGETS.join(', ')}` },
  batch: { type: 'string', expects: "an integer from 1 to 65536 or 'dynamic'" },
  force: { type: 'boolean' },
  weights: { type: 'string', expects: 'a checkpoint file (.pth, .safetensors), a pretrained name or an https:// URL' },
  ...OFFLINE_OPTION,
  'weights-format': { type: 'string', expects: `one of ${WEIGHTS_FORMATS.join(', ')}, auto` },
  'fold-bn': { type: 'boolean' },
  'no-embedding': { type: 'boolean' },
  postprocess: { type: 'string', expects: 'graph or none' },
  ...LABELS_OPTION,
  ...PRECISION_OPTIONS,
  ...TRITON_OPTIONS,
} as const satisfies OptionSpec;

export async function exportModel(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, EXPORT_OPTIONS);
  if (values.help) return (io.out(EXPORT_HELP), 0);
  const out = values.output;
  const named = values.weights !== undefined && isWeightsName(values.weights);
  const options = named ? namedModelOptions(values) : modelOptions(values);
  const opset = integer('opset', values.opset, between(MIN_OPSET, MAX_OPSET));
  const batch: number | 'dynamic' | undefined =
    values.batch === 'dynamic'
      ? 'dynamic'
      : integer('batch', values.batch, { ...between(1, 65536), rule: "an integer from 1 to 65536 or 'dynamic'" });
  const target = TARGETS.find((t) => t === (values.target ?? 'onnxruntime'));
  if (target === undefined) throw optionError('--target', `one of ${TARGETS.join(', ')}`, quote(values.target!));
  const triton = tritonChoice(values);
  if (triton) checkTriton(values, target);
  else if (out === undefined) throw optionError('-o/--output', 'the .onnx file to write (required)', 'nothing');
  // Every value is checked whether or not it is used: a mistyped one must not pass silently.
  const format = weightsFormat(values['weights-format']);
  const seeded = initialiser(values, 'torchvision');
  if (values.weights !== undefined) {
    for (const o of ['seed', 'init'] as const)
      if (values[o] !== undefined)
        throw optionError(
          `--${o}`,
          `no --${o} with --weights (the weights come from the checkpoint)`,
          quote(values[o]),
        );
  } else if (values['weights-format'] !== undefined)
    throw optionError('--weights-format', '--weights FILE to go with it', 'no --weights');
  if (out !== undefined) checkOutputPath(out, values.force === true, '-o');
  const precision = precisionPlan(values);
  const postprocess = postprocessChoice(values.postprocess, target, triton !== undefined);
  const t0 = performance.now();
  const batchAxis = triton ? 'dynamic' : batch;
  const full = {
    ...options,
    embedding: withEmbedding(values, target),
    ...(batchAxis !== undefined && { batch: batchAxis }),
  };
  if (named && format !== 'auto')
    throw optionError('--weights-format', 'auto (or nothing) with a pretrained name', quote(values['weights-format']!));
  const model = named
    ? await loadNamed(values.weights!, full, values, io, 'export')
    : values.weights !== undefined
      ? withWeights(full as ModelOptions, values.weights, format, io)
      : buildModel({ ...(full as ModelOptions), weights: seeded });
  const { config } = model;
  const detector = model.graph.metadata[METADATA_KEYS.detection] !== undefined;
  if (postprocess !== undefined && !detector)
    throw optionError('--postprocess', '--arch ssdlite320-v3-large (a detection model)', `--arch ${config.arch}`);
  const withNames = values.labels !== undefined ? labelled(model, values.labels) : model.graph;
  const lowered = await applyPrecision(values['fold-bn'] ? foldBatchNorm(withNames) : withNames, precision, io);
  const inGraph = postprocess === 'graph' || (postprocess === undefined && detector && graphByDefault(target, triton));
  const graph = inGraph ? withGraphPostprocess(lowered, `--arch ${config.arch}`) : lowered;
  const chosen = opset === undefined ? defaultOpset(graph, precision.precision, target) : { opset };
  const bytes = toOnnx(graph, { opset: chosen.opset, target });
  const where = triton
    ? writeTriton(graph, bytes, triton, config.arch, values.force === true)
        .map(escapeControls)
        .join(', ')
    : (await writeFileAtomic(out!, bytes, { signals: true }), escapeControls(out!));
  const a = analyze(graph);
  const ms = (performance.now() - t0).toFixed(0);
  const weights =
    values.weights !== undefined
      ? `trained weights from ${escapeControls(values.weights)}`
      : `seeded weights (${values.init ?? 'torchvision'} init, seed ${values.seed ?? 0}; the labels carry no meaning: --weights FILE for trained ones)`;
  io.err(
    `wrote ${where}: ${escapeControls(graph.name)} (${config.convention}), ${weights}, ${(a.params / 1e6).toFixed(2)} M params, ${(a.macs / 1e6).toFixed(1)} M MACs, ` +
      `opset ${chosen.opset}${chosen.why ? ` (${chosen.why})` : ''}, ${precision.precision}${target === 'onnxruntime' ? '' : `, for ${target}`}, ${(bytes.length / 2 ** 20).toFixed(1)} MiB in ${ms} ms\n`,
  );
  return 0;
}

/** --triton's companions: no -o (the repository is the output), a dynamic batch axis, the onnxruntime target. */
function checkTriton(values: { output?: string; batch?: string }, target: Target): void {
  if (values.output !== undefined)
    throw optionError(
      '-o/--output',
      'no -o with --triton (the model goes to REPO/NAME/1/model.onnx)',
      quote(values.output),
    );
  if (values.batch !== undefined && values.batch !== 'dynamic')
    throw optionError(
      '--batch',
      "'dynamic' or nothing with --triton (Triton batches on the first axis)",
      quote(values.batch),
    );
  if (target !== 'onnxruntime')
    throw optionError(
      '--target',
      'onnxruntime with --triton (Triton runs it on its onnxruntime backend)',
      quote(target),
    );
}

/**
 * The opset when --opset is not given. An int8 model with GELU is written at opset 20, where Gelu is one ONNX op:
 * below 20 it is five elementwise ops, which onnxruntime fuses back in float but not after a DequantizeLinear (each
 * reader gets its own copy of the DQ), and v4-hybrid-large's int8 file ran 1.04-1.20x fp32 at opset 17 against 1.72x
 * at 20 (docs/precision.md).
 */
export function defaultOpset(graph: Graph, precision: Precision, target: Target): { opset: number; why?: string } {
  const gelu = graph.nodes.some((n) => n.op === 'Gelu');
  if (precision === 'int8' && gelu && target === 'onnxruntime' && DEFAULT_OPSET < 20)
    return { opset: 20, why: 'int8 with GELU: onnxruntime fuses it from opset 20; --opset to choose' };
  return { opset: DEFAULT_OPSET };
}

/** The model's graph with the class names of --labels FILE in its metadata (their count checked). */
function labelled(model: Model, file: string): Graph {
  if (!model.config.includeTop)
    throw optionError('--labels', 'a model with a classifier (not --no-top)', quotePath(file));
  return withLabels(model.graph, readLabels(file, model.config.classes));
}

/**
 * Whether the file also outputs the pooled features ('embedding'), so that one file serves classify and embed: by
 * default yes, except for OpenCV (whose forward() without names returns the last output, which must stay the logits).
 */
function withEmbedding(values: { embedding?: true; 'no-embedding'?: true }, target: Target): boolean {
  if (values.embedding && values['no-embedding'])
    throw optionError('--embedding/--no-embedding', 'one of them', 'both');
  return values.embedding === true || (values['no-embedding'] !== true && target !== 'opencv');
}

/**
 * A detector's postprocessing goes in the graph unless told otherwise, where the file's runtime can run it: the graph
 * was 3x faster than the TypeScript decode + NMS in onnxruntime-node and 1.8x in onnxruntime-web WASM
 * (docs/benchmarks.md). OpenCV 4.6 cannot create its ops, and Triton would batch its [1] thresholds.
 */
const graphByDefault = (target: Target, triton: unknown) => target === 'onnxruntime' && triton === undefined;

/** --postprocess's value: graph or none; graph is for onnxruntime files (OpenCV 4.6 has no TopK, NMS, Where). */
function postprocessChoice(raw: string | undefined, target: Target, triton: boolean): 'graph' | 'none' | undefined {
  if (raw === undefined) return undefined;
  if (raw !== 'graph' && raw !== 'none') throw optionError('--postprocess', 'graph or none', quote(raw));
  if (raw === 'graph' && target !== 'onnxruntime')
    throw optionError(
      '--postprocess',
      'none with --target opencv (OpenCV 4.6 DNN cannot create TopK, NonMaxSuppression, Where, GatherND, ScatterND)',
      quote(raw),
    );
  // writeTriton's config batches every input on its first axis: the [1] thresholds would become [batch].
  if (raw === 'graph' && triton)
    throw optionError(
      '--postprocess',
      "none with --triton (Triton batches every input; the graph's thresholds are one [1] tensor per run)",
      quote(raw),
    );
  return raw;
}

/** --weights-format's value (default auto), checked even without --weights. */
function weightsFormat(raw: string | undefined): WeightsFormat | 'auto' {
  const allowed: readonly (WeightsFormat | 'auto')[] = [...WEIGHTS_FORMATS, 'auto'];
  const format = allowed.find((f) => f === (raw ?? 'auto'));
  if (format === undefined) throw optionError('--weights-format', `one of ${allowed.join(', ')}`, quote(raw!));
  return format;
}

function withWeights(options: ModelOptions, file: string, format: WeightsFormat | 'auto', io: Io): Model {
  const bytes = readInput(file, 'a checkpoint file (.pth, .safetensors)', '--weights', FILE_CAPS.checkpoint);
  const model = buildWithWeights(options, readCheckpoint(bytes, file), { format, source: file });
  // Say which layout and convention the weights were built with: a wrong convention gives plausible, wrong logits.
  io.err(`weights: ${escapeControls(file)} has ${model.detected ?? model.format} keys; ${model.conventionNote}\n`);
  if (model.warning) io.err(`warning: ${model.warning}\n`);
  return model;
}
