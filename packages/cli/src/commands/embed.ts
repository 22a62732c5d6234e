import { closeSync, existsSync, ftruncateSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { buildModel, escapeControls, toOnnx } from '@mobilenet/core';
import {
  type BatchStats,
  FileError,
  type NodeSession,
  type NodeSessionOptions,
  backendNames,
  linesOf,
  openRegularSync,
  readRegularSync,
} from '@mobilenet/runtime-node';
import { OFFLINE_OPTION, loadNamed } from '../pretrained.js';
import { MODEL_OPTIONS, SEED_OPTION, initialiser, modelHelp, modelOptions, parse } from '../args.js';
import { type ImageFile, imagesOfArgs, nameOf } from '../collection.js';
import { EXIT, optionError, quote, quotePath } from '../errors.js';
import {
  backendOption,
  failedCount,
  modelRecord,
  modelSource,
  reportSkipped,
  signalExit,
  streamResults,
} from '../image-run.js';
import { type Io, checkOutputPath, lockOutput, openOutput, writeAll, writeFileAtomic } from '../io.js';
import { readModelFile } from '../model-file.js';
import { MatrixWriter, matrixFormat } from '../matrix-file.js';
import { between, integer } from '../numbers.js';
import type { OptionSpec } from '../parse.js';
import { RunMeter, VERBOSE_HELP, VERBOSE_OPTION, tuneRun } from '../pipeline-tuning.js';
import { openSession } from '../session.js';
import { version } from '../version.js';
import { EMBED_FORMAT, fileListPath, metaPath } from '../embed-files.js';
import { QUEUE_HELP, QUEUE_OPTIONS, queueOnly } from './fleet-options.js';

export const EMBED_HELP = `Usage: mobilenet embed IMAGE|DIR... (--model FILE.onnx|NAME | --arch A [model options]) -o OUT [options]

The pooled feature vector of each image, as one float32 matrix [images, width] in OUT (.npy or .safetensors,
tensor 'embeddings') and its rows' image paths, one per line, in OUT's name with .files.txt; OUT's name with
.meta.json names the model (sha256), its preprocessing and the version. A folder stands for its image files.
Images that fail are reported by name and left out (so is a file whose name holds a line break, which the list
cannot hold); the run goes on and exits 1 with the count. OUT is valid at every moment: Ctrl-C keeps the rows done,
and --resume goes on from them, for the same model only. OUT.lock keeps a second run off the same OUT.
  -o, --output OUT    .npy or .safetensors
  --model FILE|NAME   an .onnx file with an 'embedding' output: any classifier that mobilenet export wrote (it
                      outputs the pooled features beside the logits, unless --no-embedding); or a pretrained name
  --offline           a pretrained NAME from the cache only
  --arch A            build the model instead (seeded random weights)
  --seed N            weight seed with --arch (default 0)
  --backend B         ${backendNames().join('|')} (default cpu)
  --threads N         intra-op threads, 1 to 256 (default: every core on cpu, onnxruntime's choice on a GPU;
                      spinning goes off on cpu for more than one image, as decodes share the cores)
${VERBOSE_HELP}
  --recursive         also the images in subfolders of a DIR
  --resume            keep OUT's rows and skip their images (images that failed have no row: tried again)
  --force             overwrite OUT
  --allow-any-op      accept a model with ops beyond an image classifier's (only for a model you trust)
${QUEUE_HELP}

${modelHelp('--model FILE|NAME')}
`;

const EMBED_OPTIONS = {
  ...QUEUE_OPTIONS,
  ...MODEL_OPTIONS,
  ...SEED_OPTION,
  output: { type: 'string', short: 'o', expects: 'a .npy or .safetensors file to write' },
  model: { type: 'string', expects: 'an .onnx file or a pretrained name' },
  ...OFFLINE_OPTION,
  backend: { type: 'string', expects: `one of ${backendNames().join(', ')}` },
  threads: { type: 'string', expects: 'an integer from 1 to 256' },
  ...VERBOSE_OPTION,
  recursive: { type: 'boolean' },
  resume: { type: 'boolean' },
  force: { type: 'boolean' },
  'allow-any-op': { type: 'boolean' },
} as const satisfies OptionSpec;

// The names of OUT's companions live in embed-files.ts, which the fleet's producer shares (no import circle).
export { EMBED_FORMAT, fileListPath, metaPath } from '../embed-files.js';

/** What OUT.meta.json says: the model (a content hash) whose rows OUT holds, so --resume adds only that model's. */
interface EmbedMeta {
  readonly format: typeof EMBED_FORMAT;
  readonly version: string;
  readonly model: { readonly name: string; readonly sha256: string };
  readonly output: string;
  readonly preprocessing: unknown;
}

/** Longest line of the file list read back (a path is at most 4096 bytes on Linux). */
const MAX_NAME_LINE = 1 << 16;

const cannotResume = (path: string, why: string) =>
  new Error(
    `-o --resume: ${quotePath(path)} ${why}; OUT was left as it is (start over with --force, or write to another file)`,
  );

/** The sidecar of a resumed OUT must name the same model and output. */
function checkMeta(path: string, want: EmbedMeta): void {
  let meta: Partial<EmbedMeta> | undefined;
  try {
    meta = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(
        readRegularSync(path, { what: 'the .meta.json of mobilenet embed', maxBytes: 1 << 20, noFollow: true }),
      ),
    ) as Partial<EmbedMeta>;
  } catch (e) {
    if (e instanceof FileError && e.problem === 'missing')
      throw cannotResume(path, 'does not exist: nothing says which model wrote OUT');
    throw cannotResume(path, e instanceof FileError ? e.detail : 'is not valid JSON');
  }
  if (typeof meta !== 'object' || meta === null || meta.format !== EMBED_FORMAT)
    throw cannotResume(path, `is not the '${EMBED_FORMAT}' file mobilenet embed writes`);
  const model = meta.model as Partial<EmbedMeta['model']> | undefined;
  if (model?.sha256 !== want.model.sha256 || meta.output !== want.output)
    throw cannotResume(
      path,
      `names another model (${typeof model?.name === 'string' ? quote(model.name) : 'unnamed'}), not ${quote(want.model.name)} (sha256 '${want.model.sha256.slice(0, 16)}')`,
    );
}

/**
 * The names already in the file list, up to `rows` of them (the matrix may hold fewer rows than names after an
 * interruption, or more): the list is cut back to them, byte for byte. A line that is not UTF-8 refuses the resume.
 */
function keptNames(list: string, rows: number): string[] {
  if (!existsSync(list)) return [];
  const fd = openRegularSync(list, {
    what: 'the file list of mobilenet embed',
    maxBytes: Number.MAX_SAFE_INTEGER,
    noFollow: true,
    update: true,
  });
  try {
    const names: string[] = [];
    let end = 0;
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    for (const l of linesOf(fd, list, MAX_NAME_LINE)) {
      if (!l.complete || names.length === rows) break;
      try {
        names.push(utf8.decode(l.line));
      } catch {
        throw cannotResume(list, `line ${l.number} is not valid UTF-8 (mobilenet embed writes UTF-8 names)`);
      }
      end = l.at + l.line.length + 1;
    }
    ftruncateSync(fd, end);
    return names;
  } catch (e) {
    if (e instanceof FileError) throw cannotResume(list, e.detail);
    throw e;
  } finally {
    closeSync(fd);
  }
}

export async function embed(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, EMBED_OPTIONS, true);
  if (values.help) return (io.out(EMBED_HELP), 0);
  queueOnly(values);
  if (values.queue !== undefined) return (await import('./fleet.js')).produce('embed', values, positionals, io);
  if (positionals.length === 0) throw optionError('argument IMAGE|DIR', 'at least one image or folder', 'none');
  if (values.output === undefined) throw optionError('-o', 'a .npy or .safetensors file to write', 'nothing');
  const out = values.output;
  const format = matrixFormat(out, '-o');
  const list = fileListPath(out);
  const resume = values.resume === true;
  checkOutputPath(out, values.force === true || resume, '-o');
  checkOutputPath(list, values.force === true || resume, '-o (its file list)');
  checkOutputPath(metaPath(out), values.force === true || resume, '-o (its .meta.json)');
  const backend = backendOption(values.backend);
  const threads = integer('threads', values.threads, between(1, 256));
  const source = modelSource(values);
  const { files: listed, skipped } = imagesOfArgs(positionals, values.recursive === true);
  // The model's bytes are read once: what runs is what OUT.meta.json's hash names.
  const bytes =
    source.kind === 'named'
      ? toOnnx((await loadNamed(source.name, { embedding: true, batch: 'dynamic' }, values, io, 'embed')).graph)
      : source.kind === 'file'
        ? readModelFile(source.file, '--model')
        : toOnnx(
            buildModel({
              ...modelOptions(values),
              embedding: true,
              weights: initialiser(values, 'fan-in'),
              batch: 'dynamic',
            }).graph,
          );
  const name = values.model ?? `--arch ${values.arch}`;
  const verbose = values.verbose === true;
  const tuning = tuneRun(io, 'embed', { backend, images: listed.length, threads, verbose });
  const options: NodeSessionOptions = {
    backend,
    name,
    allowAnyOp: values['allow-any-op'] === true,
    ...(tuning.threads && { threads: tuning.threads }),
    spinning: tuning.spinning,
    ...(values['allow-large'] === true && { maxNodes: Number.MAX_SAFE_INTEGER }),
  };
  const session = await openSession(
    bytes,
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
  reportSkipped(io, 'embed', skipped);
  // A name with a line break cannot be one line of the list: left out, named, counted as failed.
  const unlistable = listed.filter((f) => nameOf(f).includes('\n'));
  for (const f of unlistable)
    io.err(
      `mobilenet embed: ${quotePath(nameOf(f))}: left out, its name holds a line break, which the file list (one name per line) cannot hold\n`,
    );
  const all = listed.filter((f) => !unlistable.includes(f));

  const meta: EmbedMeta = {
    format: EMBED_FORMAT,
    version: version(),
    model: modelRecord(name, bytes),
    output: session.info.embeddingName,
    preprocessing: session.info.preprocessing,
  };
  let unlock: () => void;
  try {
    unlock = lockOutput(out, '-o');
  } catch (e) {
    await session.release();
    throw e;
  }
  try {
    const o = { out, list, format, resume, meta, verbose, threads: tuning.threads };
    return await embedTo(session, all, o, io, skipped.length + unlistable.length);
  } finally {
    unlock();
  }
}

/** The rows of `all` into OUT and its list, after the resume checks; OUT is locked by the caller. */
async function embedTo(
  session: NodeSession,
  all: ImageFile[],
  o: {
    out: string;
    list: string;
    format: 'npy' | 'safetensors';
    resume: boolean;
    meta: EmbedMeta;
    verbose: boolean;
    threads?: number;
  },
  io: Io,
  skipped: number,
): Promise<number> {
  const { out, list, format, meta } = o;
  const resume = o.resume && existsSync(out);
  let matrix: MatrixWriter;
  let done: Set<string>;
  try {
    if (resume) checkMeta(metaPath(out), meta);
    else await writeFileAtomic(metaPath(out), new TextEncoder().encode(`${JSON.stringify(meta, null, 1)}\n`));
    matrix = new MatrixWriter(out, format, resume, '-o');
  } catch (e) {
    await session.release();
    throw e;
  }
  try {
    // The file list names the rows: after an interruption both keep the rows both have.
    const names = resume ? keptNames(list, matrix.count) : [];
    matrix.keep(names.length);
    done = new Set(names);
  } catch (e) {
    matrix.close();
    await session.release();
    throw e;
  }
  const files = all.filter((f) => !done.has(nameOf(f)));
  if (done.size) io.err(`mobilenet embed: resuming: ${done.size} images already in ${escapeControls(out)}\n`);
  const names = openOutput(list, resume ? 'append' : 'truncate');

  let rows: Float32Array[] = [];
  let rowNames: string[] = [];
  const flush = () => {
    matrix.append(rows);
    writeAll(names, Buffer.from(rowNames.map((n) => `${n}\n`).join('')), list);
    rows = [];
    rowNames = [];
  };
  const meter = new RunMeter();
  const onBatch = (s: BatchStats) => {
    meter.onBatch(s);
    flush();
  };
  const { failed, stop } = await streamResults(() => session.embedAll(files, { onBatch }), {
    io,
    command: 'embed',
    total: files.length,
    take: (r) => {
      if (!r.ok) return;
      rows.push(r.embedding);
      rowNames.push(r.image);
    },
    end: flush,
    close: async () => {
      matrix.close();
      closeSync(names);
      await session.release();
    },
  });
  if (stop) {
    io.err(
      `mobilenet embed: interrupted (${stop}); ${escapeControls(out)} holds the ${matrix.count} rows done (--resume goes on)\n`,
    );
    return signalExit(stop);
  }
  if (o.verbose)
    for (const line of meter.summary(availableParallelism(), o.threads)) io.err(`mobilenet embed: ${line}\n`);
  io.err(
    `mobilenet embed: ${matrix.count} rows of ${meta.output} in ${escapeControls(out)}, their images in ${escapeControls(list)}\n`,
  );
  if (failed + skipped) io.err(`mobilenet embed: ${failedCount(failed + skipped, all.length + skipped)}\n`);
  return failed + skipped ? EXIT.failure : EXIT.ok;
}
