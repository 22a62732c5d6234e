import { existsSync } from 'node:fs';
import {
  type Graph,
  type TrainedHead,
  type TrainingRecord,
  buildModel,
  classificationReport,
  embeddingOutputOf,
  escapeControls,
  fanInFill,
  fromOnnx,
  fuseHead,
  headGraph,
  headTensors,
  isArch,
  isWeightsName,
  predictHead,
  stratifiedSplit,
  toOnnx,
  trainHead,
  writeSafetensors,
} from '@mobilenet/core';
import { backendNames } from '@mobilenet/runtime-node';
import { parse } from '../args.js';
import { nameOf } from '../collection.js';
import { EmbeddingCache, embeddingCacheRoot, sha256 } from '../embed-cache.js';
import { optionError, quote, quotePath } from '../errors.js';
import { type ImageClass, readImageFolder } from '../image-folder.js';
import { backendOption, reportSkipped, signalExit } from '../image-run.js';
import { type Io, checkOutputPath, writeFileAtomic } from '../io.js';
import { readModelFile } from '../model-file.js';
import type { OptionSpec } from '../parse.js';
import { PRECISION_HELP, PRECISION_OPTIONS, applyPrecision, precisionPlan } from '../precision.js';
import { OFFLINE_OPTION, loadNamed } from '../pretrained.js';
import { openSession } from '../session.js';
import { type Job, embedJobs, readJobs, viewsOf } from '../train-embed.js';
import { trainOptions, TRAIN_OPTION_SPEC, TRAIN_OPTIONS_HELP } from '../train-options.js';
import { confusionSvg, reportText } from '../train-report.js';

export const TRAIN_HELP = `Usage: mobilenet train DIR -o OUT.onnx --base NAME|FILE|ARCH [options]

Trains a classifier head on the embeddings of DIR's images and writes ONE file: the base model with the head behind
its 'embedding' output (Gemm -> Softmax; mlp: Gemm -> Relu -> Gemm -> Softmax), the class names, the preprocessing
and how it was trained in its metadata. 'mobilenet classify IMAGE --model OUT.onnx' then prints your labels.
DIR holds one folder per class (torchvision's ImageFolder layout): DIR/cat/*.jpg, DIR/dog/*.jpg, ...; at least 2
classes, 2 images each. Files that are not images are named and skipped. Embeddings are cached by content (the
model's sha256 and each image's sha256), so a second run embeds only new images. Nothing is written until training
ends; Ctrl-C leaves no partial file.
  -o, --output OUT    OUT.onnx (the fused model; with --head-only the head alone, input 'embedding'), or with
                      --head-only OUT.safetensors (the head's weights, PyTorch's [out, in] layout)
  --base NAME|FILE|ARCH  the backbone: a pretrained name (torchvision:..., hf-hub:...), an .onnx file with an
                      'embedding' output (mobilenet export writes one), or an arch with seeded weights (tests)
  --width W, --resolution R, --base-seed N   with an ARCH base: its width, input size and weight seed (default 0)
${TRAIN_OPTIONS_HELP}
  --augment           also train on seeded augmented views of each training image (random resized crop keeping
                      35-100% of the area, horizontal flip half the time); validation images are never augmented.
                      Measured: no change on faces vs non-faces, 29 points worse on digits (a mirrored 7 is not a 7):
                      docs/training.md
  --views N           augmented views per training image with --augment (default 2)
  --head-only         write the head alone (no backbone)
  --cache DIR         where embeddings are cached (default $MOBILENET_CACHE/embeddings, else
                      $XDG_CACHE_HOME/mobilenet/embeddings, else ~/.cache/mobilenet/embeddings)
  --no-cache          embed every image, cache nothing
  --backend B         ${backendNames().join('|')} (default cpu)
  --offline           a pretrained NAME from the cache only
  --force             overwrite OUT (and its .confusion.svg)
${PRECISION_HELP}

At the end: per-class precision and recall on the validation images, the confusion matrix (a table, and an SVG chart
in OUT's name with .confusion.svg) and the validation images it got wrong.
`;

const TRAIN_SPEC = {
  output: { type: 'string', short: 'o', expects: 'an .onnx (or, with --head-only, .safetensors) file to write' },
  base: { type: 'string', expects: 'a pretrained name, an .onnx file or an arch' },
  width: { type: 'string', expects: 'a number from 0.05 to 4' },
  resolution: { type: 'string', expects: 'a multiple of 32' },
  'base-seed': { type: 'string', expects: 'an integer from 0 to 4294967295' },
  ...TRAIN_OPTION_SPEC,
  augment: { type: 'boolean' },
  views: { type: 'string', expects: 'an integer from 1 to 16' },
  'head-only': { type: 'boolean' },
  cache: { type: 'string', expects: 'a folder for cached embeddings' },
  'no-cache': { type: 'boolean' },
  backend: { type: 'string', expects: `one of ${backendNames().join(', ')}` },
  ...OFFLINE_OPTION,
  force: { type: 'boolean' },
  ...PRECISION_OPTIONS,
} as const satisfies OptionSpec;

interface Base {
  readonly graph: Graph;
  readonly bytes: Uint8Array;
  /** What the training record says the base was. */
  readonly record: string;
}

/** --base: a file (it exists, or ends in .onnx), a pretrained name, or an arch with seeded weights. */
async function loadBase(values: { [k: string]: unknown }, io: Io): Promise<Base> {
  const raw = values.base as string;
  if (existsSync(raw) || /\.onnx$/i.test(raw)) {
    const bytes = readModelFile(raw, '--base');
    return { graph: fromOnnx(bytes, raw).graph, bytes, record: `file ${raw} (sha256 ${sha256(bytes)})` };
  }
  if (isWeightsName(raw)) {
    const m = await loadNamed(raw, { embedding: true, batch: 'dynamic' }, values as { offline?: true }, io, 'train');
    return { graph: m.graph, bytes: toOnnx(m.graph), record: raw };
  }
  if (!isArch(raw))
    throw optionError(
      '--base',
      'a pretrained name (torchvision:..., hf-hub:...), an existing .onnx file or an arch (mobilenet export --help lists them)',
      quote(raw),
    );
  const seed = Number((values['base-seed'] as string | undefined) ?? 0);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)
    throw optionError('--base-seed', 'an integer from 0 to 4294967295', quote(String(values['base-seed'])));
  const width = values.width === undefined ? undefined : Number(values.width);
  const resolution = values.resolution === undefined ? undefined : Number(values.resolution);
  const model = buildModel({
    arch: raw as Parameters<typeof buildModel>[0]['arch'],
    ...(width !== undefined && { width }),
    ...(resolution !== undefined && { resolution }),
    embedding: true,
    batch: 'dynamic',
    weights: fanInFill(seed),
  });
  const what = `arch ${raw}${width ? ` width ${width}` : ''}${resolution ? ` resolution ${resolution}` : ''}, seeded (fan-in, seed ${seed})`;
  return { graph: model.graph, bytes: toOnnx(model.graph), record: what };
}

/** OUT's kind, and the chart's path beside it; usage mistakes before any work. */
function outputs(values: { output?: string; 'head-only'?: true; force?: true; precision?: string }) {
  const out = values.output;
  if (out === undefined) throw optionError('-o', 'an .onnx file to write', 'nothing');
  const safetensors = /\.safetensors$/i.test(out);
  if (!safetensors && !/\.onnx$/i.test(out))
    throw optionError('-o', 'a file name ending in .onnx (or .safetensors with --head-only)', quotePath(out));
  if (safetensors && !values['head-only'])
    throw optionError(
      '-o',
      'an .onnx file (a .safetensors file holds the head alone: add --head-only)',
      quotePath(out),
    );
  if (values['head-only'] && values.precision !== undefined && values.precision !== 'fp32')
    throw optionError('--precision', 'fp32 with --head-only (the head is a few kilobytes)', quote(values.precision));
  const svg = `${out.replace(/\.(onnx|safetensors)$/i, '')}.confusion.svg`;
  checkOutputPath(out, values.force === true, '-o');
  checkOutputPath(svg, values.force === true, '-o (its .confusion.svg)');
  return { out, safetensors, svg, headOnly: values['head-only'] === true };
}

export async function train(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, TRAIN_SPEC, true);
  if (values.help) return (io.out(TRAIN_HELP), 0);
  if (positionals.length !== 1)
    throw optionError('argument DIR', 'one folder with a subfolder per class', `${positionals.length} arguments`);
  if (values.base === undefined) throw optionError('--base', 'a pretrained name, an .onnx file or an arch', 'nothing');
  const dir = positionals[0]!;
  const o = outputs(values);
  const options = trainOptions(values);
  const views = values.augment ? Number(values.views ?? 2) : 0;
  if (values.views !== undefined && (!values.augment || !/^\d+$/.test(values.views) || views < 1 || views > 16))
    throw optionError('--views', 'an integer from 1 to 16, with --augment', quote(values.views));
  const backend = backendOption(values.backend);
  const precision = precisionPlan(values);
  const layout = readImageFolder(dir);
  reportSkipped(io, 'train', layout.skipped);
  const base = await loadBase(values, io);
  const emb = embeddingOutputOf(base.graph.outputs);
  if (!emb)
    throw optionError(
      '--base',
      "a model with an 'embedding' output (mobilenet export writes one unless --no-embedding: export it again)",
      `${quotePath(values.base)} with outputs ${base.graph.outputs.map((v) => quote(v.name)).join(', ')}`,
    );
  const dim = emb.type.shape[1];
  if (typeof dim !== 'number')
    throw optionError(
      '--base',
      "an 'embedding' output of a fixed width [N, D]",
      `${quotePath(values.base)} with [N, ${dim}]`,
    );
  const session = await openSession(base.bytes, { backend, name: values.base }, '--backend cpu runs it on the CPU');
  const modelSha = sha256(base.bytes);
  const cache = values['no-cache']
    ? undefined
    : new EmbeddingCache(embeddingCacheRoot(process.env, values.cache), modelSha);
  const common = { cache, seed: options.seed, io, dim };
  const embedded = await embedJobs(session, readJobs(layout.classes, io), { ...common, release: views === 0 });
  if (embedded.stop) return signalExit(embedded.stop);
  const originals = embedded.jobs;
  checkCounts(layout.classes, originals);
  const classes = layout.classes.map((c) => c.name);
  const labels = Int32Array.from(originals, (j) => j.label);
  const split = stratifiedSplit(labels, classes.length, options.val ?? 0.15, options.seed ?? 0);
  // Augmented views of the training images only: a view of a validation image would leak it into training.
  const viewed = views
    ? await embedJobs(
        session,
        viewsOf(
          Array.from(split.train, (i) => originals[i]!),
          views,
        ),
        { ...common, release: true },
      )
    : { jobs: [], rows: new Map<Job, Float32Array>() };
  if (viewed.stop) return signalExit(viewed.stop);
  if (cache)
    io.err(
      `mobilenet train: embeddings: ${cache.hits} from the cache, ${cache.misses} computed (cache ${escapeControls(cache.dir)}: model sha256 / image sha256)\n`,
    );
  const extra = viewed.jobs;
  const all = [...originals, ...extra];
  const rows = new Map([...embedded.rows, ...viewed.rows]);
  const embeddings = new Float32Array(all.length * dim);
  all.forEach((j, i) => {
    embeddings.set(rows.get(j)!, i * dim);
  });
  const trainRows = Int32Array.from([...split.train, ...extra.map((_, i) => originals.length + i)]);
  io.err(
    `mobilenet train: ${originals.length} images in ${classes.length} classes (${split.train.length} train${extra.length ? ` + ${extra.length} augmented views` : ''}, ${split.val.length} validation)\n`,
  );
  const head = trainHead({
    ...options,
    embeddings,
    labels: Int32Array.from(all, (j) => j.label),
    classes,
    split: { train: trainRows, val: split.val },
    // L-BFGS has no epochs: every 10th iteration's objective instead (the first one too).
    onIteration: (r) =>
      (r.iteration === 1 || r.iteration % 10 === 0) &&
      io.err(
        `iteration ${r.iteration}: objective ${r.objective.toPrecision(8)}, max |gradient| ${r.gradient.toExponential(2)}\n`,
      ),
    onEpoch: (r) =>
      io.err(
        `epoch ${r.epoch}: loss ${r.loss.toFixed(4)}${Number.isNaN(r.valLoss) ? '' : `, val loss ${r.valLoss.toFixed(4)}, val accuracy ${(100 * r.valAccuracy).toFixed(1)}%`}\n`,
      ),
  });
  const record: TrainingRecord = {
    base: base.record,
    imagesPerClass: Object.fromEntries(classes.map((c, i) => [c, head.counts[i]!])),
    valAccuracy: Number.isNaN(head.valAccuracy) ? null : head.valAccuracy,
    seed: head.options.seed,
    head: head.options,
    validationImages: split.val.length,
    ...(views && { augment: { views, seed: head.options.seed } }),
  };
  await report(head, originals, embeddings, split.val, o.svg, io);
  await write(o, base, head, record, precision, io);
  return 0;
}

/** After failed decodes, each class still needs 2 images. */
function checkCounts(classes: readonly ImageClass[], originals: readonly Job[]): void {
  classes.forEach((c, i) => {
    const n = originals.filter((j) => j.label === i).length;
    if (n < 2)
      throw new Error(
        `class folder ${quotePath(c.folder)}: expected at least 2 images that decode, received ${n} (the others failed, named above)`,
      );
  });
}

/** The validation report: per-class table, confusion matrix (text and SVG), the images it got wrong. */
async function report(
  head: TrainedHead,
  originals: readonly Job[],
  embeddings: Float32Array,
  val: Int32Array,
  svg: string,
  io: Io,
): Promise<void> {
  if (val.length === 0) return void io.out('no validation images (--val 0): no report\n');
  const dim = head.dim;
  const x = new Float32Array(val.length * dim);
  val.forEach((r, i) => {
    x.set(embeddings.subarray(r * dim, (r + 1) * dim), i * dim);
  });
  const p = predictHead(head, x);
  const truth = Int32Array.from(val, (r) => originals[r]!.label);
  const rep = classificationReport(truth, p.labels, head.classes);
  io.out(
    `validation: ${(100 * rep.accuracy).toFixed(2)}% of ${val.length} images (epoch ${head.bestEpoch} kept${head.stoppedEarly ? ', stopped early' : ''})\n\n`,
  );
  io.out(reportText(rep, head.classes));
  const wrong = Array.from(val, (r, i) => ({ r, i })).filter(({ i }) => p.labels[i] !== truth[i]);
  io.out(`\n${wrong.length} validation images wrong${wrong.length ? ':' : ''}\n`);
  for (const { r, i } of wrong.slice(0, 100)) {
    const k = head.classes.length;
    const pred = p.labels[i]!;
    io.out(
      `  ${quotePath(nameOf(originals[r]!.file))}: ${quote(head.classes[truth[i]!]!)}, predicted ${quote(head.classes[pred]!)} (${(100 * p.probabilities[i * k + pred]!).toFixed(1)}%)\n`,
    );
  }
  if (wrong.length > 100) io.out(`  ... and ${wrong.length - 100} more\n`);
  const title = `validation confusion, ${(100 * rep.accuracy).toFixed(1)}% of ${val.length} images`;
  await writeFileAtomic(svg, new TextEncoder().encode(confusionSvg(rep.confusion, head.classes, title)), {
    signals: true,
  });
  io.err(`mobilenet train: confusion chart ${escapeControls(svg)}\n`);
}

async function write(
  o: { out: string; safetensors: boolean; headOnly: boolean },
  base: Base,
  head: TrainedHead,
  record: TrainingRecord,
  precision: ReturnType<typeof precisionPlan>,
  io: Io,
): Promise<void> {
  let bytes: Uint8Array;
  let what: string;
  if (o.safetensors) {
    const tensors = Object.fromEntries(
      Object.entries(headTensors(head)).map(([k, t]) => [
        k,
        {
          dtype: 'F32' as const,
          shape: t.dims,
          bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        },
      ]),
    );
    bytes = writeSafetensors(tensors, { classes: JSON.stringify(head.classes), training: JSON.stringify(record) });
    what = `the ${head.kind} head's weights (${Object.keys(tensors).join(', ')})`;
  } else if (o.headOnly) {
    bytes = toOnnx(headGraph(head, record));
    what = `the ${head.kind} head alone (input 'embedding')`;
  } else {
    const fused = await applyPrecision(fuseHead(base.graph, head, record), precision, io);
    bytes = toOnnx(fused);
    what = `${escapeControls(fused.name)}, ${precision.precision}`;
  }
  await writeFileAtomic(o.out, bytes, { signals: true });
  io.err(
    `wrote ${escapeControls(o.out)}: ${what}, ${head.classes.length} classes, validation accuracy ${Number.isNaN(head.valAccuracy) ? 'n/a' : `${(100 * head.valAccuracy).toFixed(2)}%`}, ${(bytes.length / 2 ** 20).toFixed(2)} MiB\n`,
  );
}
