// Reading a Triton model repository, the layout `mobilenet export --triton` writes: REPO/NAME/config.pbtxt,
// REPO/NAME/<version>/model.onnx, and the labels file an output's `label_filename` names. Only what the server
// needs is read; a configuration this server cannot honour (another platform, no batching) is refused by name.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type TextMessage, list, parseTextProto } from './pbtxt.js';

/** One model of a repository, as the server loads it. */
export interface RepositoryModel {
  name: string;
  /** The latest version (Triton's default version policy, `latest { num_versions: 1 }`). */
  version: string;
  onnxPath: string;
  /** max_batch_size. */
  maxBatch: number;
  /** dynamic_batching.max_queue_delay_microseconds, where given. */
  maxQueueDelayUs?: number;
  /** The labels of the output whose label_filename names them. */
  labels?: readonly string[];
}

const where = (repo: string, name: string) => join(repo, name, 'config.pbtxt');

function integerField(m: TextMessage, field: string, file: string): number | undefined {
  const v = m[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new Error(`${file}: ${field}: expected a non-negative integer, received ${JSON.stringify(v)}`);
  }
  return v;
}

/** Reads one model's folder. */
function readModel(repo: string, name: string): RepositoryModel {
  const file = where(repo, name);
  const config = parseTextProto(readFileSync(file, 'utf8'), file);
  if (config.name !== undefined && config.name !== name) {
    throw new Error(
      `${file}: name: expected '${name}' (the folder's name, as Triton requires), received ${JSON.stringify(config.name)}`,
    );
  }
  const platform = config.platform ?? config.backend;
  if (platform !== 'onnxruntime_onnx' && platform !== 'onnxruntime') {
    throw new Error(
      `${file}: platform: expected "onnxruntime_onnx" (this server runs ONNX models), received ${JSON.stringify(platform)}`,
    );
  }
  const maxBatch = integerField(config, 'max_batch_size', file) ?? 0;
  if (maxBatch < 1)
    throw new Error(
      `${file}: max_batch_size: expected at least 1 (this server batches on the first axis), received ${maxBatch}`,
    );
  const dynamic = config.dynamic_batching as TextMessage | undefined;
  const delay = dynamic ? integerField(dynamic, 'max_queue_delay_microseconds', file) : undefined;
  const file_ = typeof config.default_model_filename === 'string' ? config.default_model_filename : 'model.onnx';
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(file_))
    throw new Error(`${file}: default_model_filename: expected a plain file name, received ${JSON.stringify(file_)}`);
  const versions = readdirSync(join(repo, name))
    .filter((d) => /^[0-9]+$/.test(d) && existsSync(join(repo, name, d, file_)))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0)
    throw new Error(`${join(repo, name)}: no version folder holds ${file_} (expected ${join(repo, name, '1', file_)})`);
  const labelFile = list(config.output)
    .map((o) => (o as TextMessage).label_filename)
    .find((l) => typeof l === 'string') as string | undefined;
  const labels = labelFile
    ? readFileSync(join(repo, name, labelFile), 'utf8')
        .split('\n')
        .map((l) => l.replace(/\r$/, ''))
        .filter((l, i, all) => l !== '' || i < all.length - 1)
    : undefined;
  return {
    name,
    version: versions[0]!,
    onnxPath: join(repo, name, versions[0]!, file_),
    maxBatch,
    ...(delay !== undefined ? { maxQueueDelayUs: delay } : {}),
    ...(labels ? { labels } : {}),
  };
}

/** Every model of a repository (each folder with a config.pbtxt), by name. */
export function readRepository(repo: string): RepositoryModel[] {
  if (!existsSync(repo) || !statSync(repo).isDirectory()) throw new Error(`--repo ${repo}: not a folder`);
  const names = readdirSync(repo)
    .filter((d) => existsSync(where(repo, d)))
    .sort();
  if (names.length === 0) throw new Error(`--repo ${repo}: no model folder with a config.pbtxt`);
  return names.map((n) => readModel(repo, n));
}
