import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, type Model, TARGETS, type Target, type ModelOptions, WEIGHTS_FORMATS, type WeightsFormat, analyze, buildModel, buildWithWeights, foldBatchNorm, readCheckpoint, toOnnx } from '@mobilenet/core';
import { MODEL_HELP, MODEL_OPTIONS, initialiser, integerOption, modelOptions, parse } from '../args.js';
import { UsageError } from '../errors.js';
import { type Io, checkOutputPath, writeFileAtomic } from '../io.js';
import { PRECISION_HELP, PRECISION_OPTIONS, applyPrecision, precisionPlan } from '../precision.js';

export const EXPORT_HELP = `Usage: mobilenet export --arch A [model options] -o OUT.onnx [--opset N] [--seed N] [--batch N|dynamic] [--target T] [--force]

Writes the model as an ONNX file, atomically. Weights: torchvision's initialisation, seeded (same seed, same bytes).
  -o, --output FILE   the .onnx file to write (its folder must exist)
  --opset N           ONNX opset, ${MIN_OPSET}-${MAX_OPSET} (default ${DEFAULT_OPSET})
  --seed N            weight initialisation seed (default 0)
  --batch N|dynamic   input batch dimension (default 1)
  --target T          ${TARGETS.join('|')}: the reader the file is for (default onnxruntime); opencv rewrites
                      what OpenCV 4.6 DNN mis-reads (ReLU6's Clip, the squeeze-excite Mul), see docs/elsewhere.md
  --force             overwrite OUT if it exists
  --weights FILE      load a checkpoint: torchvision .pth or timm .safetensors/.pth (keys checked, classes read from it;
                      without --convention, the convention follows the key layout, and is said)
  --weights-format F  ${WEIGHTS_FORMATS.join('|')}|auto (default auto: detected from the keys, and said)
  --fold-bn           fold BatchNorm into the preceding convs (inference-only file, same outputs)
${PRECISION_HELP}

${MODEL_HELP}
`;

export async function exportModel(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    ...MODEL_OPTIONS,
    output: { type: 'string', short: 'o' },
    opset: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    target: { type: 'string' },
    force: { type: 'boolean' },
    weights: { type: 'string' },
    'weights-format': { type: 'string' },
    'fold-bn': { type: 'boolean' },
    ...PRECISION_OPTIONS,
  });
  if (values.help) return io.out(EXPORT_HELP), 0;
  const out = values.output as string | undefined;
  const options = modelOptions(values);
  const opset = integerOption('opset', values.opset as string | undefined, MIN_OPSET, MAX_OPSET);
  const rawBatch = values.batch as string | undefined;
  const batch = rawBatch === undefined || rawBatch === 'dynamic' ? (rawBatch as 'dynamic' | undefined) : integerOption('batch', rawBatch, 1, 65536);
  const target = (values.target as string | undefined) ?? 'onnxruntime';
  if (!TARGETS.includes(target as Target)) throw new UsageError(`option --target: '${target}' is not one of ${TARGETS.join(', ')}`);
  if (!out) throw new UsageError('option -o/--output: required, the .onnx file to write');
  checkOutputPath(out, Boolean(values.force), '-o');
  const precision = precisionPlan(values);
  const t0 = performance.now();
  const full = { ...options, ...(batch !== undefined && { batch }) };
  const model = values.weights ? withWeights(full, values.weights as string, values['weights-format'] as string | undefined, io) : buildModel({ ...full, weights: initialiser(values, 'torchvision') });
  const { config } = model;
  const graph = await applyPrecision(values['fold-bn'] ? foldBatchNorm(model.graph) : model.graph, precision, io);
  const bytes = toOnnx(graph, { opset: opset ?? DEFAULT_OPSET, target: target as Target });
  writeFileAtomic(out, bytes);
  const a = analyze(graph);
  const ms = (performance.now() - t0).toFixed(0);
  io.err(
    `wrote ${out}: ${graph.name} (${config.convention}), ${(a.params / 1e6).toFixed(2)} M params, ${(a.macs / 1e6).toFixed(1)} M MACs, ` +
      `opset ${opset ?? DEFAULT_OPSET}, ${precision.precision}${target === 'onnxruntime' ? '' : `, for ${target}`}, ${(bytes.length / 2 ** 20).toFixed(1)} MiB in ${ms} ms\n`,
  );
  return 0;
}

function withWeights(options: ModelOptions, file: string, rawFormat: string | undefined, io: Io): Model {
  const format = rawFormat ?? 'auto';
  if (format !== 'auto' && !WEIGHTS_FORMATS.includes(format as WeightsFormat)) {
    throw new UsageError(`option --weights-format: '${format}' is not one of ${WEIGHTS_FORMATS.join(', ')}, auto`);
  }
  if (!existsSync(file)) throw new UsageError(`option --weights: file '${file}' does not exist`);
  const model = buildWithWeights(options, readCheckpoint(readFileSync(file), file), { format: format as WeightsFormat | 'auto', source: file });
  // Say which layout and convention the weights were built with: a wrong convention gives plausible, wrong logits.
  io.err(`weights: ${file} has ${model.detected ?? model.format} keys; ${model.conventionNote}\n`);
  if (model.warning) io.err(`warning: ${model.warning}\n`);
  return model;
}
