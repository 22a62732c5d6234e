// Triton model configuration (`config.pbtxt`): protobuf text format of `inference.ModelConfig`
// (triton-inference-server/common, protobuf/model_config.proto), written from a small typed description, and the
// model repository layout Triton and KServe load: REPO/NAME/config.pbtxt, REPO/NAME/<version>/model.onnx and the
// labels file beside config.pbtxt.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATATYPES, type Datatype } from '../protocol/datatypes.js';

/** `inference.DataType` names; the protocol's BYTES is TYPE_STRING. */
export type TritonDataType = `TYPE_${Exclude<Datatype, 'BYTES'>}` | 'TYPE_STRING';

/** The protocol datatype as model_config.proto's enum names it. */
export const tritonDataType = (d: Datatype): TritonDataType =>
  d === 'BYTES' ? 'TYPE_STRING' : (`TYPE_${d}` as TritonDataType);

export interface TritonTensor {
  name: string;
  datatype: Datatype;
  /** Without the batch dimension when max_batch_size > 0; -1 for a variable dimension. */
  dims: number[];
  /** Inputs only: FORMAT_NCHW or FORMAT_NHWC for images. */
  format?: 'FORMAT_NONE' | 'FORMAT_NCHW' | 'FORMAT_NHWC';
  /** Outputs only: the labels file beside config.pbtxt, one label per class index (the classification extension). */
  labelFilename?: string;
}

export interface TritonInstanceGroup {
  count: number;
  kind: 'KIND_AUTO' | 'KIND_GPU' | 'KIND_CPU' | 'KIND_MODEL';
  /** KIND_GPU only: which GPUs. */
  gpus?: number[];
  name?: string;
}

/** What `config.pbtxt` says, in the terms model_config.proto uses. */
export interface TritonModelConfig {
  name: string;
  /** Default "onnxruntime_onnx". */
  platform?: string;
  /** 0: the model does not batch (dims then are the full shape). */
  maxBatchSize: number;
  inputs: TritonTensor[];
  outputs: TritonTensor[];
  dynamicBatching?: {
    preferredBatchSize?: number[];
    maxQueueDelayMicroseconds?: number;
    preserveOrdering?: boolean;
  };
  instanceGroup?: TritonInstanceGroup[];
  /** The version folder's file name; Triton's default for onnxruntime_onnx is model.onnx. */
  defaultModelFilename?: string;
  /** `parameters` (map<string, ModelParameter>): backend settings as strings. */
  parameters?: Record<string, string>;
  /** `metric_tags` (map<string, string>). */
  metricTags?: Record<string, string>;
}

const INT32_MAX = 2147483647;

/**
 * A string as protobuf text format writes it, quoted: `"`, `'`, `\` and the C escapes for \n \r \t, other control
 * bytes and every byte of a non-ASCII character's UTF-8 as a 3-digit octal escape (as protobuf's CEscape does),
 * so the file is ASCII whatever the names.
 */
export function pbtxtString(s: string): string {
  let out = '"';
  for (const b of new TextEncoder().encode(s)) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x27) out += "\\'";
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b < 0x20 || b >= 0x7f) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

function bad(field: string, message: string): never {
  throw new Error(`Triton config ${field}: ${message}`);
}

const checkInt = (field: string, v: unknown, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    bad(field, `expected an integer from ${min} to ${max}, received ${String(v)}`);
  }
  return v as number;
};

/** Checks a description against what Triton accepts; throws naming the field. */
export function validateTritonConfig(c: TritonModelConfig): void {
  if (typeof c.name !== 'string' || c.name === '') bad('name', 'expected a non-empty string');
  checkInt('max_batch_size', c.maxBatchSize, 0, INT32_MAX);
  for (const [kind, list] of [
    ['input', c.inputs],
    ['output', c.outputs],
  ] as const) {
    if (!Array.isArray(list) || list.length === 0) bad(kind, 'at least one is needed');
    const seen = new Set<string>();
    list.forEach((t, i) => {
      const at = `${kind}[${i}]`;
      if (typeof t.name !== 'string' || t.name === '') bad(`${at}.name`, 'expected a non-empty string');
      if (seen.has(t.name)) bad(`${at}.name`, `'${t.name}' appears twice`);
      seen.add(t.name);
      if (!DATATYPES.includes(t.datatype)) bad(`${at}.data_type`, `expected one of ${DATATYPES.join(', ')}`);
      if (!Array.isArray(t.dims)) bad(`${at}.dims`, 'expected an array');
      // Triton: every dim is -1 or positive; a non-batching model needs at least one.
      t.dims.forEach((d, j) => {
        if (d !== -1) checkInt(`${at}.dims[${j}]`, d, 1, Number.MAX_SAFE_INTEGER);
      });
      if (c.maxBatchSize === 0 && t.dims.length === 0) bad(`${at}.dims`, 'a model that does not batch needs dims');
      if (kind === 'output' && t.format !== undefined) bad(`${at}.format`, 'only inputs have a format');
      if (kind === 'input' && t.labelFilename !== undefined) bad(`${at}.label_filename`, 'only outputs have labels');
    });
  }
  const db = c.dynamicBatching;
  if (db) {
    if (c.maxBatchSize === 0) bad('dynamic_batching', 'needs max_batch_size > 0 (a model that batches)');
    for (const [i, b] of (db.preferredBatchSize ?? []).entries()) {
      checkInt(`dynamic_batching.preferred_batch_size[${i}]`, b, 1, c.maxBatchSize);
    }
    if (db.maxQueueDelayMicroseconds !== undefined) {
      checkInt(
        'dynamic_batching.max_queue_delay_microseconds',
        db.maxQueueDelayMicroseconds,
        0,
        Number.MAX_SAFE_INTEGER,
      );
    }
  }
  c.instanceGroup?.forEach((g, i) => {
    checkInt(`instance_group[${i}].count`, g.count, 1, INT32_MAX);
    if (!['KIND_AUTO', 'KIND_GPU', 'KIND_CPU', 'KIND_MODEL'].includes(g.kind)) {
      bad(
        `instance_group[${i}].kind`,
        `expected KIND_AUTO, KIND_GPU, KIND_CPU or KIND_MODEL, received ${String(g.kind)}`,
      );
    }
    if (g.gpus && g.kind !== 'KIND_GPU') bad(`instance_group[${i}].gpus`, 'only KIND_GPU takes gpus');
    for (const [j, d] of (g.gpus ?? []).entries()) checkInt(`instance_group[${i}].gpus[${j}]`, d, 0, INT32_MAX);
  });
}

/** `config.pbtxt` for a model: protobuf text format of inference.ModelConfig, fields in the .proto's order. */
export function tritonConfigText(c: TritonModelConfig): string {
  validateTritonConfig(c);
  const lines: string[] = [];
  lines.push(`name: ${pbtxtString(c.name)}`);
  lines.push(`platform: ${pbtxtString(c.platform ?? 'onnxruntime_onnx')}`);
  lines.push(`max_batch_size: ${c.maxBatchSize}`);
  const tensors = (field: string, list: TritonTensor[]) => {
    lines.push(`${field} [`);
    list.forEach((t, i) => {
      lines.push('  {');
      lines.push(`    name: ${pbtxtString(t.name)}`);
      lines.push(`    data_type: ${tritonDataType(t.datatype)}`);
      if (t.format) lines.push(`    format: ${t.format}`);
      lines.push(`    dims: [ ${t.dims.join(', ')} ]`);
      if (t.labelFilename !== undefined) lines.push(`    label_filename: ${pbtxtString(t.labelFilename)}`);
      lines.push(i === list.length - 1 ? '  }' : '  },');
    });
    lines.push(']');
  };
  tensors('input', c.inputs);
  tensors('output', c.outputs);
  if (c.dynamicBatching) {
    const db = c.dynamicBatching;
    lines.push('dynamic_batching {');
    if (db.preferredBatchSize?.length) lines.push(`  preferred_batch_size: [ ${db.preferredBatchSize.join(', ')} ]`);
    if (db.maxQueueDelayMicroseconds !== undefined) {
      lines.push(`  max_queue_delay_microseconds: ${db.maxQueueDelayMicroseconds}`);
    }
    if (db.preserveOrdering !== undefined) lines.push(`  preserve_ordering: ${db.preserveOrdering}`);
    lines.push('}');
  }
  if (c.instanceGroup?.length) {
    lines.push('instance_group [');
    c.instanceGroup.forEach((g, i) => {
      lines.push('  {');
      if (g.name !== undefined) lines.push(`    name: ${pbtxtString(g.name)}`);
      lines.push(`    count: ${g.count}`);
      lines.push(`    kind: ${g.kind}`);
      if (g.gpus?.length) lines.push(`    gpus: [ ${g.gpus.join(', ')} ]`);
      lines.push(i === c.instanceGroup!.length - 1 ? '  }' : '  },');
    });
    lines.push(']');
  }
  if (c.defaultModelFilename !== undefined)
    lines.push(`default_model_filename: ${pbtxtString(c.defaultModelFilename)}`);
  for (const [k, v] of Object.entries(c.metricTags ?? {})) {
    lines.push(`metric_tags {\n  key: ${pbtxtString(k)}\n  value: ${pbtxtString(v)}\n}`);
  }
  for (const [k, v] of Object.entries(c.parameters ?? {})) {
    lines.push(`parameters {\n  key: ${pbtxtString(k)}\n  value: { string_value: ${pbtxtString(v)} }\n}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A model or version folder name Triton can load: no path separators, not "." or "..". */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export interface WriteRepositoryOptions {
  /** The model repository folder (created if missing). */
  repo: string;
  config: TritonModelConfig;
  /** The ONNX model's bytes, with a dynamic batch axis where max_batch_size > 0. */
  model: Uint8Array;
  /** One label per class index; written to the file the outputs' labelFilename names (they must agree). */
  labels?: readonly string[];
  /** The version folder, a positive integer; default 1. */
  version?: number;
  /** Replace the files of a version folder that already holds files. Off by default: such a folder is refused. */
  overwrite?: boolean;
}

export interface WrittenRepository {
  modelDir: string;
  configPath: string;
  modelPath: string;
  labelsPath?: string;
}

/**
 * Writes REPO/NAME/config.pbtxt, REPO/NAME/VERSION/<default_model_filename or model.onnx> and the labels file.
 * A version folder that already holds files is refused unless `overwrite`: a repository Triton serves from is not
 * changed under it by accident. Each file is written beside its target and renamed into place.
 */
export function writeTritonRepository(o: WriteRepositoryOptions): WrittenRepository {
  const c = o.config;
  const text = tritonConfigText(c);
  if (!SAFE_NAME.test(c.name)) {
    bad(
      'name',
      `'${c.name}' cannot be a folder of a model repository (letters, digits, '_', '.', '-'; not starting with '.' or '-')`,
    );
  }
  const version = o.version ?? 1;
  checkInt('version', version, 1, Number.MAX_SAFE_INTEGER);
  const modelFile = c.defaultModelFilename ?? 'model.onnx';
  if (!SAFE_NAME.test(modelFile)) bad('default_model_filename', `'${modelFile}' is not a plain file name`);
  const labelFiles = [...new Set(c.outputs.flatMap((t) => (t.labelFilename === undefined ? [] : [t.labelFilename])))];
  if (labelFiles.length > 1)
    bad('label_filename', `the outputs name ${labelFiles.length} files; one labels file is written`);
  const labelFile = labelFiles[0];
  if (labelFile !== undefined && !o.labels) bad('label_filename', `'${labelFile}' is named but no labels were given`);
  if (labelFile === undefined && o.labels)
    bad('label_filename', 'labels were given but no output names a label_filename');
  if (labelFile !== undefined) {
    if (!SAFE_NAME.test(labelFile) || labelFile === 'config.pbtxt' || labelFile === String(version)) {
      bad('label_filename', `'${labelFile}' is not a plain file name beside config.pbtxt`);
    }
    o.labels!.forEach((l, i) => {
      if (/[\r\n]/.test(l)) bad(`labels[${i}]`, 'a label cannot hold a line break (the file has one label per line)');
    });
  }

  const modelDir = join(o.repo, c.name);
  const versionDir = join(modelDir, String(version));
  if (existsSync(versionDir)) {
    if (!statSync(versionDir).isDirectory()) throw new Error(`${versionDir} exists and is not a folder`);
    const held = readdirSync(versionDir);
    if (held.length > 0 && !o.overwrite) {
      const shown = held.slice(0, 5).join(', ') + (held.length > 5 ? `, ... (${held.length} in all)` : '');
      throw new Error(
        `${versionDir} already holds a model version (${shown}); refusing to overwrite it. ` +
          'Choose another version or repository, or pass overwrite (the CLI: --force) to replace its files.',
      );
    }
  }
  mkdirSync(versionDir, { recursive: true });
  const put = (path: string, data: Uint8Array | string) => {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  };
  const modelPath = join(versionDir, modelFile);
  put(modelPath, o.model);
  const written: WrittenRepository = { modelDir, configPath: join(modelDir, 'config.pbtxt'), modelPath };
  if (labelFile !== undefined) {
    written.labelsPath = join(modelDir, labelFile);
    put(written.labelsPath, `${o.labels!.join('\n')}\n`);
  }
  put(written.configPath, text);
  return written;
}
