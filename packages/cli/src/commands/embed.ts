import { closeSync, existsSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { buildModel } from '@mobilenet/core';
import { type NodeSessionOptions, backendNames } from '@mobilenet/runtime-node';
import { OFFLINE_OPTION, isWeightsName, loadNamed } from '../pretrained.js';
import { MODEL_OPTIONS, SEED_OPTION, initialiser, modelHelp, modelOptions, parse } from '../args.js';
import { imagesOfArgs } from '../collection.js';
import { EXIT, optionError, quote, quotePath } from '../errors.js';
import { type Io, checkOutputPath } from '../io.js';
import { readModelFile } from '../model-file.js';
import { MatrixWriter, matrixFormat } from '../matrix-file.js';
import { between, integer } from '../numbers.js';
import type { OptionSpec } from '../parse.js';
import { Progress } from '../progress.js';
import { openSession } from '../session.js';

export const EMBED_HELP = `Usage: mobilenet embed IMAGE|DIR... (--model FILE.onnx|NAME | --arch A [model options]) -o OUT [options]

The pooled feature vector of each image, as one float32 matrix [images, width] in OUT (.npy or .safetensors,
tensor 'embeddings') and its rows' image paths, one per line, in OUT's name with .files.txt. A folder stands for
its image files. Images that fail are reported by name and left out; the run goes on and exits 1 with the count.
OUT is valid at every moment: Ctrl-C keeps the rows done, and --resume goes on from them.
  -o, --output OUT    .npy or .safetensors
  --model FILE|NAME   an .onnx file with an 'embedding' output: any classifier that mobilenet export wrote (it
                      outputs the pooled features beside the logits, unless --no-embedding); or a pretrained name
  --offline           a pretrained NAME from the cache only
  --arch A            build the model instead (seeded random weights)
  --seed N            weight seed with --arch (default 0)
  --backend B         ${backendNames().join('|')} (default cpu)
  --threads N         intra-op threads, 1 to 256
  --recursive         also the images in subfolders of a DIR
  --resume            keep OUT's rows and skip their images (images that failed have no row: tried again)
  --force             overwrite OUT

${modelHelp('--model FILE|NAME')}
`;

const EMBED_OPTIONS = {
  ...MODEL_OPTIONS,
  ...SEED_OPTION,
  output: { type: 'string', short: 'o', expects: 'a .npy or .safetensors file to write' },
  model: { type: 'string', expects: 'an .onnx file or a pretrained name' },
  ...OFFLINE_OPTION,
  backend: { type: 'string', expects: `one of ${backendNames().join(', ')}` },
  threads: { type: 'string', expects: 'an integer from 1 to 256' },
  recursive: { type: 'boolean' },
  resume: { type: 'boolean' },
  force: { type: 'boolean' },
} as const satisfies OptionSpec;

/** The list beside OUT: 'emb.npy' -> 'emb.files.txt'. */
export const fileListPath = (out: string): string => `${out.replace(/\.(npy|safetensors)$/i, '')}.files.txt`;

export async function embed(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, EMBED_OPTIONS, true);
  if (values.help) return (io.out(EMBED_HELP), 0);
  if (positionals.length === 0) throw optionError('argument IMAGE|DIR', 'at least one image or folder', 'none');
  if (values.output === undefined) throw optionError('-o', 'a .npy or .safetensors file to write', 'nothing');
  const out = values.output;
  const format = matrixFormat(out, '-o');
  const list = fileListPath(out);
  const resume = values.resume === true;
  checkOutputPath(out, values.force === true || resume, '-o');
  checkOutputPath(list, values.force === true || resume, '-o (its file list)');
  const backend = backendNames().find((b) => b === (values.backend ?? 'cpu'));
  if (backend === undefined)
    throw optionError('--backend', `one of ${backendNames().join(', ')}`, quote(values.backend!));
  const threads = integer('threads', values.threads, between(1, 256));
  if ((values.model === undefined) === (values.arch === undefined))
    throw optionError(
      '--model/--arch',
      'exactly one of --model FILE.onnx or --arch A',
      values.model === undefined ? 'neither' : 'both',
    );
  const { files: all, skipped } = imagesOfArgs(positionals, values.recursive === true);
  const source =
    values.model !== undefined && isWeightsName(values.model)
      ? await loadNamed(values.model, { embedding: true, batch: 'dynamic' }, values, io, 'embed')
      : values.model !== undefined
        ? readModelFile(values.model, '--model')
        : buildModel({
            ...modelOptions(values),
            embedding: true,
            weights: initialiser(values, 'fan-in'),
            batch: 'dynamic',
          });
  const options: NodeSessionOptions = { backend, ...(threads && { threads }) };
  const session = await openSession(
    source,
    options,
    '--backend cpu runs it on the CPU; mobilenet backends says what each backend needs',
  );
  for (const w of session.warnings) io.err(`mobilenet embed: warning: ${w}\n`);
  if (!session.info.embeddingName) {
    await session.release();
    throw optionError(
      '--model',
      "a model with an 'embedding' output (mobilenet export writes one unless --no-embedding: export it again)",
      quotePath(values.model!),
    );
  }
  for (const s of skipped) io.err(`mobilenet embed: ${s.path}: skipped, ${s.reason}\n`);

  const matrix = new MatrixWriter(out, format, resume, '-o');
  // The file list names the rows: after an interruption both keep the rows both have.
  const listed = resume && existsSync(list) ? readFileSync(list, 'utf8').split('\n').slice(0, -1) : [];
  const keep = Math.min(listed.length, matrix.count);
  matrix.keep(keep);
  if (resume && existsSync(list))
    truncateSync(
      list,
      Buffer.byteLength(
        listed
          .slice(0, keep)
          .map((l) => `${l}\n`)
          .join(''),
      ),
    );
  const done = new Set(listed.slice(0, keep));
  const files = all.filter((f) => !done.has(f));
  if (done.size) io.err(`mobilenet embed: resuming: ${done.size} images already in ${out}\n`);
  const names = openSync(list, resume ? 'a' : 'w');

  let stop: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => void (stop = s);
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const progress = new Progress(io, files.length, 'embed');
  let failed = 0;
  let rows: Float32Array[] = [];
  let rowNames: string[] = [];
  const flush = () => {
    matrix.append(rows);
    writeSync(names, rowNames.map((n) => `${n}\n`).join(''));
    rows = [];
    rowNames = [];
  };
  try {
    for await (const r of session.embedAll(files, { onBatch: () => flush() })) {
      if (r.ok) {
        rows.push(r.embedding);
        rowNames.push(r.image);
      } else {
        failed++;
        io.err(`${io.isTty ? '\n' : ''}mobilenet embed: ${r.error}\n`);
      }
      progress.tick(1);
      if (stop) break;
    }
    flush();
  } finally {
    progress.finish();
    matrix.close();
    closeSync(names);
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await session.release();
  }
  if (stop) {
    io.err(`mobilenet embed: interrupted (${stop}); ${out} holds the ${matrix.count} rows done (--resume goes on)\n`);
    return stop === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
  }
  io.err(`mobilenet embed: ${matrix.count} rows of ${session.info.embeddingName} in ${out}, their images in ${list}\n`);
  if (failed + skipped.length)
    io.err(`mobilenet embed: ${failed + skipped.length} of ${all.length + skipped.length} failed (named above)\n`);
  return failed + skipped.length ? EXIT.failure : EXIT.ok;
}
