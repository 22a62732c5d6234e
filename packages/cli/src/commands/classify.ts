import { availableParallelism } from 'node:os';
import {
  type ClassifyResult,
  buildModel,
  escapeControls,
  logitsOutput,
  readConfig,
  summarizeOnnx,
  toOnnx,
  weightsKind,
} from '@mobilenet/core';
import { type NodeSession, type NodeSessionOptions, DEFAULT_MAX_PIXELS, backendNames } from '@mobilenet/runtime-node';
import { LIMITS, MODEL_OPTIONS, SEED_OPTION, initialiser, modelHelp, modelOptions, parse } from '../args.js';
import { type ImageFile, JSONL_FORMAT, type JsonlHeader, JsonlSink, imagesOfArgs, nameOf } from '../collection.js';
import { EXIT, optionError, quote } from '../errors.js';
import {
  backendOption,
  failedCount,
  modelRecord,
  modelSource,
  reportSkipped,
  signalExit,
  streamResults,
} from '../image-run.js';
import { type Io, checkOutputPath } from '../io.js';
import { LABELS_HELP, LABELS_OPTION, readLabels } from '../labels.js';
import { readModelFile } from '../model-file.js';
import { between, integer } from '../numbers.js';
import type { OptionSpec, Values } from '../parse.js';
import { Progress } from '../progress.js';
import { NAMES_HELP, OFFLINE_OPTION, loadNamed } from '../pretrained.js';
import { RunMeter, VERBOSE_HELP, VERBOSE_OPTION, tuneRun } from '../pipeline-tuning.js';
import { openSession } from '../session.js';
import { SignalCheck } from '../signal.js';
import { version } from '../version.js';
import { QUEUE_HELP, QUEUE_OPTIONS, queueOnly } from './fleet-options.js';

const MAX_THREADS = 256;
const MAX_PIXELS = 2 ** 32;

export const CLASSIFY_HELP = `Usage: mobilenet classify IMAGE|DIR... (--model FILE.onnx|NAME | --arch A [model options]) [options]

Top-k ImageNet classes for each image (JPEG, PNG, WebP, AVIF, TIFF, GIF), on onnxruntime-node. A folder stands
for its image files; decoding runs ahead while the model runs, in batches it sizes itself.
  --model FILE|NAME   an .onnx file (ours: preprocessing read from its metadata; foreign: torchvision's), or a
                      pretrained name (below): built here with its weights, labels and preprocessing
  --offline           a pretrained NAME from the cache only
  --arch A            build the model instead (seeded random weights: the labels carry no meaning)
  --seed N            weight seed with --arch (default 0)
  --backend B         ${backendNames().join('|')} (default cpu)
  --fallback          if the backend cannot start, use cpu and say why
  --threads N         intra-op threads, 1 to ${MAX_THREADS} (default: every core on cpu, onnxruntime's choice on
                      a GPU; spinning goes off on cpu for more than one image, as decodes share the cores)
  --top K             classes per image, 1 to 1000 (default 5)
  --max-pixels N      largest image decoded, in pixels (default ${DEFAULT_MAX_PIXELS}, 100 megapixels); images are
                      decoded a few at a time, within this many pixels in all
${LABELS_HELP}
                      (default: the model file's own, else ImageNet's for 1000 or 1001 classes, else 'class N')
${VERBOSE_HELP}
  --json              one JSON array: [{image, ok, top: [{index, label, probability}] | error}]
  --recursive         also the images in subfolders of a DIR
  --jsonl OUT         one JSON line per image to OUT as it is done (nothing held in memory; Ctrl-C leaves OUT valid),
                      after a first line naming the model (sha256), preprocessing, --top and version
  --resume            with --jsonl: keep OUT's results and skip their images (OUT must be ours, from the same
                      model and --top; anything else is refused and left as it is); images that failed are tried
                      again (their error lines are removed, so OUT keeps one line per image)
  --force             with --jsonl: overwrite OUT
  --allow-any-op      accept a model with ops beyond an image classifier's (control flow, custom domains): only
                      for a model you trust (a Loop can run forever)
${QUEUE_HELP}

${NAMES_HELP}

${modelHelp('--model FILE|NAME')}
`;

const CLASSIFY_OPTIONS = {
  ...QUEUE_OPTIONS,
  ...MODEL_OPTIONS,
  ...SEED_OPTION,
  model: { type: 'string', expects: 'an .onnx file or a pretrained name' },
  ...OFFLINE_OPTION,
  backend: { type: 'string', expects: `one of ${backendNames().join(', ')}` },
  fallback: { type: 'boolean' },
  threads: { type: 'string', expects: `an integer from 1 to ${MAX_THREADS}` },
  top: { type: 'string', expects: 'an integer from 1 to 1000' },
  'max-pixels': { type: 'string', expects: `an integer from 1 to ${MAX_PIXELS}` },
  json: { type: 'boolean' },
  recursive: { type: 'boolean' },
  jsonl: { type: 'string', expects: 'a file to write' },
  resume: { type: 'boolean' },
  force: { type: 'boolean' },
  'allow-any-op': { type: 'boolean' },
  ...LABELS_OPTION,
  ...VERBOSE_OPTION,
} as const satisfies OptionSpec;

export async function classify(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, CLASSIFY_OPTIONS, true);
  if (values.help) return (io.out(CLASSIFY_HELP), 0);
  queueOnly(values);
  if (values.queue !== undefined) return (await import('./fleet.js')).produce('classify', values, positionals, io);
  if (positionals.length === 0) throw optionError('argument IMAGE', 'at least one image file', 'none');
  const backend = backendOption(values.backend);
  const top = integer('top', values.top, between(1, 1000)) ?? 5;
  const threads = integer('threads', values.threads, between(1, MAX_THREADS));
  const maxPixels = integer('max-pixels', values['max-pixels'], between(1, MAX_PIXELS));
  const source = modelSource(values);
  if (values.jsonl === undefined && (values.resume || values.force))
    throw optionError(values.resume ? '--resume' : '--force', '--jsonl OUT to go with it', 'no --jsonl');
  if (values.jsonl !== undefined)
    checkOutputPath(values.jsonl, values.force === true || values.resume === true, '--jsonl');
  const { files, skipped } = imagesOfArgs(positionals, values.recursive === true);
  // A pretrained name first (built here from its weights), else a model file (a checkpoint given here is named
  // for what it is), else --arch. The model's bytes are read once: what runs is what the JSON-lines header's hash names.
  const { bytes, classes, seeded } =
    source.kind === 'named'
      ? await namedModel(source.name, values, io)
      : source.kind === 'file'
        ? checkModelFile(source.file, values)
        : modelOfArch(values);
  const name = values.model ?? `--arch ${values.arch}`;
  // Seeded weights are already said to mean nothing; a flat output is news only from weights that should work.
  const signal = seeded ? undefined : new SignalCheck();
  const labels = values.labels !== undefined ? readLabels(values.labels, classes) : undefined;
  if (seeded && values.model !== undefined)
    io.err(
      `mobilenet classify: ${escapeControls(values.model)} was exported with seeded random weights; the labels carry no meaning\n`,
    );
  const verbose = values.verbose === true;
  const tuning = tuneRun(io, 'classify', { backend, images: files.length, threads, verbose });
  const options: NodeSessionOptions = {
    backend,
    ...(labels && { labels }),
    fallback: values.fallback === true,
    name,
    allowAnyOp: values['allow-any-op'] === true,
    ...(tuning.threads && { threads: tuning.threads }),
    spinning: tuning.spinning,
    ...(maxPixels && { maxPixels }),
    // --allow-large lifts the library's caps on what a model declares too, not only this command's.
    ...(values['allow-large'] === true && {
      maxInputSize: Number.MAX_SAFE_INTEGER,
      maxClasses: Number.MAX_SAFE_INTEGER,
      maxNodes: Number.MAX_SAFE_INTEGER,
    }),
  };
  const session = await openSession(
    bytes,
    options,
    '--fallback runs on cpu instead; mobilenet backends says what each backend needs',
  );
  if (session.fallbackReason) io.err(`mobilenet classify: using cpu: ${session.fallbackReason}\n`);
  for (const w of session.warnings) io.err(`mobilenet classify: warning: ${w}\n`);
  if (values.arch) io.err('mobilenet classify: --arch builds seeded random weights; the labels carry no meaning\n');
  reportSkipped(io, 'classify', skipped);
  if (values.jsonl !== undefined) {
    const header = {
      format: JSONL_FORMAT,
      version: version(),
      model: modelRecord(name, bytes),
      preprocessing: session.info.preprocessing,
      top,
    } as const;
    return toJsonl(
      session,
      files,
      values.jsonl,
      {
        header,
        force: values.force === true,
        resume: values.resume === true,
        signal,
        verbose,
        threads: tuning.threads,
      },
      io,
      skipped.length,
    );
  }
  const results: ClassifyResult[] = [];
  const progress = new Progress(io, files.length, 'classify');
  const meter = new RunMeter();
  try {
    const run = { topK: top, onBatch: meter.onBatch, ...(signal && { onLogits: signal.onLogits }) };
    for await (const r of session.classifyAll(files, run)) {
      results.push(r);
      progress.tick(1);
    }
  } finally {
    progress.finish();
    await session.release();
  }
  if (verbose) sayMeasured(io, meter, tuning.threads);
  if (values.json) io.out(`${JSON.stringify(results, null, 2)}\n`);
  else if (results.some((r) => r.ok)) io.out(table(results));
  const failed = results.filter((r) => !r.ok);
  for (const f of failed) if (!f.ok) io.err(`mobilenet classify: ${f.error}\n`);
  warnFlat(signal, io);
  const bad = failed.length + skipped.length;
  if (bad) io.err(`mobilenet classify: ${failedCount(bad, results.length + skipped.length)}\n`);
  return bad ? EXIT.failure : EXIT.ok;
}

/**
 * Streams results to a JSON-lines file: each line written whole as its image is done, errors reported as they
 * come, SIGINT/SIGTERM finish the line being written and stop (exit 130/143) with OUT valid for --resume.
 */
async function toJsonl(
  session: NodeSession,
  all: ImageFile[],
  out: string,
  o: {
    header: JsonlHeader;
    force: boolean;
    resume: boolean;
    signal: SignalCheck | undefined;
    verbose: boolean;
    threads?: number;
  },
  io: Io,
  skipped: number,
): Promise<number> {
  const sink = await JsonlSink.open(out, o, o.header);
  const files = all.filter((f) => !sink.done.has(nameOf(f)));
  const retried = files.filter((f) => sink.failed.has(nameOf(f))).length;
  if (sink.done.size || sink.failed.size)
    io.err(
      `mobilenet classify: resuming: ${all.length - files.length} images already in ${escapeControls(out)}` +
        `${retried ? `; trying again the ${retried} that failed (their error lines removed)` : ''}\n`,
    );
  const t0 = performance.now();
  const meter = new RunMeter();
  const run = { topK: o.header.top, onBatch: meter.onBatch, ...(o.signal && { onLogits: o.signal.onLogits }) };
  const { done, failed, stop } = await streamResults(() => session.classifyAll(files, run), {
    io,
    command: 'classify',
    total: files.length,
    take: (r) => sink.write(r),
    close: async () => {
      sink.close();
      await session.release();
    },
  });
  if (stop) {
    io.err(
      `mobilenet classify: interrupted (${stop}) after ${done} of ${files.length} images; ${escapeControls(out)} is complete up to there (--resume goes on)\n`,
    );
    return signalExit(stop);
  }
  warnFlat(o.signal, io);
  if (o.verbose) sayMeasured(io, meter, o.threads);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const kept = all.length - files.length;
  const bad = failed + skipped;
  const total = all.length + skipped;
  io.err(
    `mobilenet classify: ${kept + done - failed} of ${total} images classified in ${escapeControls(out)}` +
      `${kept ? ` (${kept} from before)` : ''}, in ${seconds} s${bad ? `; ${failedCount(bad, total)}` : ''}\n`,
  );
  return bad ? EXIT.failure : EXIT.ok;
}

function sayMeasured(io: Io, meter: RunMeter, threads: number | undefined): void {
  for (const line of meter.summary(availableParallelism(), threads)) io.err(`mobilenet classify: ${line}\n`);
}

function warnFlat(signal: SignalCheck | undefined, io: Io): void {
  const warning = signal?.warning();
  if (warning) io.err(`mobilenet classify: ${warning}\n`);
}

/** A pretrained name: built here from its weights; model options would contradict what the name is. */
async function namedModel(name: string, values: Values<typeof CLASSIFY_OPTIONS>, io: Io): Promise<ModelChoice> {
  const modelOption = Object.keys(MODEL_OPTIONS).find((k) => k !== 'allow-large' && k in values);
  if (modelOption)
    throw optionError(
      `--${modelOption}`,
      'no model options with a pretrained name (it says what the model is)',
      `--${modelOption} with --model ${quote(name)}`,
    );
  const model = await loadNamed(name, { batch: 'dynamic' }, values, io, 'classify');
  return { bytes: toOnnx(model.graph), classes: model.config.classes, seeded: false };
}

/**
 * Reads what a model file declares before onnxruntime or our preprocessing allocates for it: an input of 20,000
 * pixels a side or millions of classes is refused unless --allow-large. Reads whether its weights are seeded.
 */
interface ModelChoice {
  /** The ONNX bytes that run (and that the JSON-lines header's sha256 names). */
  readonly bytes: Uint8Array;
  readonly classes: number;
  /** Seeded random weights (--arch, or a file exported without --weights). */
  readonly seeded: boolean;
}

function modelOfArch(values: Values<typeof CLASSIFY_OPTIONS>): ModelChoice {
  const model = buildModel({ ...modelOptions(values), weights: initialiser(values, 'fan-in'), batch: 'dynamic' });
  return { bytes: toOnnx(model.graph), classes: model.config.classes, seeded: true };
}

function checkModelFile(file: string, values: Values<typeof CLASSIFY_OPTIONS>): ModelChoice {
  const modelOption = Object.keys(MODEL_OPTIONS).find((k) => k !== 'allow-large' && k in values);
  if (modelOption)
    throw optionError(
      `--${modelOption}`,
      'either --model or --arch with model options',
      `both (--model ${quote(file)})`,
    );
  const bytes = readModelFile(file, '--model');
  const summary = summarizeOnnx(bytes, file);
  const classes = logitsOutput(summary.outputs)?.shape[1];
  if (values['allow-large'] !== true) {
    const size = summary.inputs[0]?.shape[2];
    if (typeof size === 'number' && size > LIMITS.resolution)
      throw optionError(
        '--model',
        `an input size up to ${LIMITS.resolution} (pass --allow-large for more)`,
        `${quote(file)} with input size ${size}`,
      );
    if (typeof classes === 'number' && classes > LIMITS.classes)
      throw optionError(
        '--model',
        `up to ${LIMITS.classes} classes (pass --allow-large for more)`,
        `${quote(file)} with ${classes} classes`,
      );
  }
  const seeded = weightsKind(readConfig(summary.metadata, file)) === 'seeded';
  // A model without a fixed class count is refused by the session, which names its outputs.
  return { bytes, classes: typeof classes === 'number' ? classes : 0, seeded };
}

function table(results: readonly ClassifyResult[]): string {
  const rows: string[][] = [['image', '#', 'prob', 'class', 'label']];
  for (const r of results) {
    if (!r.ok) continue;
    r.top.forEach((p, k) => {
      rows.push([
        k === 0 ? escapeControls(r.image) : '',
        String(k + 1),
        p.probability.toFixed(4),
        String(p.index),
        escapeControls(p.label),
      ]);
    });
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
