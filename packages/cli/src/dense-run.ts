// What `detect` and `segment` share: the model (a file, a pretrained name, or --arch with seeded weights), and the
// output files planned before any work, so that nothing the user gave is overwritten (an input image never, even
// with --force; any other existing file only with --force).
import { existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { DEFAULT_MAX_PIXELS, backendNames } from '@mobilenet/runtime-node';
import {
  type Graph,
  METADATA_KEYS,
  buildModel,
  readConfig,
  summarizeOnnx,
  toOnnx,
  weightsKind,
  withGraphPostprocess,
} from '@mobilenet/core';
import { MODEL_OPTIONS, type ModelValues, SEED_OPTION, initialiser, modelOptions } from './args.js';
import { type ImageFile, nameOf } from './collection.js';
import { UsageError, optionError, quote, quotePath } from './errors.js';
import { backendOption, modelSource } from './image-run.js';
import type { Io } from './io.js';
import { between, integer } from './numbers.js';
import { readModelFile } from './model-file.js';
import { openSession } from './session.js';
import type { OptionSpec } from './parse.js';
import { OFFLINE_OPTION, loadNamed } from './pretrained.js';

/** The ONNX bytes that run, what messages call them, and whether the weights are seeded (meaningless boxes). */
export interface DenseModel {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly seeded: boolean;
}

type Values = ModelValues & {
  readonly model?: string;
  readonly seed?: string;
  readonly init?: string;
  readonly offline?: true;
};

/** Model options contradict a file or a pretrained name (they say what the model is). */
function noModelOptions(values: Values, given: string): void {
  const option = Object.keys(MODEL_OPTIONS).find((k) => k !== 'allow-large' && k !== 'arch' && k in values);
  if (option) throw optionError(`--${option}`, 'model options only with --arch', `--${option} with ${given}`);
}

/** Most intra-op threads and largest decoded image `detect` and `segment` accept. */
export const MAX_THREADS = 256;
export const MAX_PIXELS = 2 ** 32;

/** The help lines of the runtime options `detect` and `segment` share. */
export const DENSE_RUN_HELP = `  --backend B           ${backendNames().join('|')} (default cpu)
  --threads N           intra-op threads, 1 to ${MAX_THREADS}
  --max-pixels N        largest image decoded, in pixels (default ${DEFAULT_MAX_PIXELS})
  --recursive           also the images in subfolders of a DIR
  --allow-any-op        accept a model with ops beyond those listed (only for a model you trust)`;

/** The options `detect` and `segment` share: the model, its runtime, the images and the outputs' rules. */
export const DENSE_RUN_OPTIONS = {
  ...MODEL_OPTIONS,
  ...SEED_OPTION,
  model: { type: 'string', expects: 'an .onnx file or a pretrained name' },
  ...OFFLINE_OPTION,
  backend: { type: 'string', expects: `one of ${backendNames().join(', ')}` },
  threads: { type: 'string', expects: `an integer from 1 to ${MAX_THREADS}` },
  'max-pixels': { type: 'string', expects: `an integer from 1 to ${MAX_PIXELS}` },
  json: { type: 'boolean' },
  force: { type: 'boolean' },
  recursive: { type: 'boolean' },
  'allow-any-op': { type: 'boolean' },
} as const satisfies OptionSpec;

interface RuntimeValues {
  readonly backend?: string | undefined;
  readonly threads?: string | undefined;
  readonly 'max-pixels'?: string | undefined;
  readonly 'allow-any-op'?: boolean | undefined;
}

/** --backend, --threads and --max-pixels, checked before any image is listed. */
export function denseRuntime(values: RuntimeValues) {
  return {
    backend: backendOption(values.backend),
    threads: integer('threads', values.threads, between(1, MAX_THREADS)),
    maxPixels: integer('max-pixels', values['max-pixels'], between(1, MAX_PIXELS)),
    allowAnyOp: values['allow-any-op'] === true,
  };
}

/** The session of `detect` or `segment`; a model with seeded weights is said to mean nothing (`what`). */
export async function openDenseSession(
  model: DenseModel,
  runtime: ReturnType<typeof denseRuntime>,
  io: Io,
  command: string,
  what: string,
) {
  const { backend, threads, maxPixels, allowAnyOp } = runtime;
  const session = await openSession(
    model.bytes,
    { backend, name: model.name, allowAnyOp, ...(threads && { threads }), ...(maxPixels && { maxPixels }) },
    'mobilenet backends says what each backend needs',
  );
  if (model.seeded) io.err(`mobilenet ${command}: seeded random weights: ${what} carry no meaning\n`);
  return session;
}

/** A detector built here runs its postprocessing in the graph, as `export` writes it by default (the faster path). */
const inGraph = (graph: Graph, name: string): Graph =>
  graph.metadata[METADATA_KEYS.detection] === undefined ? graph : withGraphPostprocess(graph, name);

/** --model FILE|NAME or --arch A [model options], as bytes. */
export async function denseModel(values: Values, io: Io, command: string): Promise<DenseModel> {
  const source = modelSource(values);
  if (source.kind === 'named') {
    noModelOptions(values, `--model ${quote(source.name)}`);
    const model = await loadNamed(source.name, { batch: 'dynamic' }, values, io, command);
    return { bytes: toOnnx(inGraph(model.graph, `--model ${quote(source.name)}`)), name: source.name, seeded: false };
  }
  if (source.kind === 'file') {
    noModelOptions(values, `--model ${quote(source.file)}`);
    const bytes = readModelFile(source.file, '--model');
    const seeded = weightsKind(readConfig(summarizeOnnx(bytes, source.file).metadata, source.file)) === 'seeded';
    return { bytes, name: source.file, seeded };
  }
  const model = buildModel({ ...modelOptions(values), weights: initialiser(values, 'fan-in'), batch: 'dynamic' });
  return { bytes: toOnnx(inGraph(model.graph, `--arch ${source.arch}`)), name: `--arch ${source.arch}`, seeded: true };
}

const realOrResolved = (path: string | Buffer): string => {
  try {
    return realpathSync(path).toString();
  } catch {
    return resolve(path.toString());
  }
};

/**
 * Where each image's outputs go in `dir` (`suffixes(stem, ext)` names them): checked before the run. The folder
 * is made when missing (its parent must exist); an output that is one of the input images is refused even with --force (drawing into the folder the
 * images came from would replace them); another existing file is refused unless `force`. Two images of the same
 * name (from different folders) get 'name-2', 'name-3', ...
 */
export function planOutputs(
  files: readonly ImageFile[],
  dir: string,
  suffixes: (stem: string, ext: string) => string[],
  force: boolean,
  option: string,
): string[][] {
  if (!existsSync(dir)) {
    // A new folder overwrites nothing; its parent must exist (a typo does not make a tree).
    try {
      mkdirSync(dir);
    } catch (e) {
      throw new UsageError(
        `option ${option}: cannot create the folder ${quotePath(dir)}: ${(e as NodeJS.ErrnoException).code}`,
      );
    }
  }
  if (!statSync(dir).isDirectory()) throw new UsageError(`option ${option}: ${quotePath(dir)} is not a folder`);
  const inputs = new Set(files.map((f) => realOrResolved(typeof f === 'string' ? f : f.path)));
  const taken = new Set<string>();
  return files.map((f) => {
    const base = basename(nameOf(f));
    const ext = extname(base);
    const stem = base.slice(0, base.length - ext.length) || base;
    for (let k = 1; ; k++) {
      const paths = suffixes(k === 1 ? stem : `${stem}-${k}`, ext).map((s) => join(dir, s));
      if (paths.some((p) => taken.has(p))) continue;
      for (const p of paths) {
        if (inputs.has(realOrResolved(p)))
          throw new UsageError(
            `option ${option}: writing ${quotePath(p)} would overwrite the input image ${quotePath(nameOf(f))}; choose another folder`,
          );
        if (!force && existsSync(p))
          throw new UsageError(`option ${option}: ${quotePath(p)} exists; pass --force to overwrite it`);
        taken.add(p);
      }
      return paths;
    }
  });
}
