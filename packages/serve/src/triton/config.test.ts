import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipUnless } from '@mobilenet/test-support';
import { type TritonModelConfig, pbtxtString, tritonConfigText, writeTritonRepository } from './config.js';

const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
const CHECK = resolve(import.meta.dirname, '../../../../tools/fixtures/triton_config_check.py');
const dir = mkdtempSync(join(tmpdir(), 'mobilenet-triton-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A MobileNet as `export --triton` will describe it: NCHW FP32 images in, 1000 logits out. */
const mobilenet: TritonModelConfig = {
  name: 'mobilenet_v3_small',
  maxBatchSize: 32,
  inputs: [{ name: 'input', datatype: 'FP32', format: 'FORMAT_NCHW', dims: [3, 224, 224] }],
  outputs: [{ name: 'logits', datatype: 'FP32', dims: [1000], labelFilename: 'labels.txt' }],
  dynamicBatching: { preferredBatchSize: [8, 16, 32], maxQueueDelayMicroseconds: 2000 },
  instanceGroup: [{ count: 1, kind: 'KIND_CPU' }],
};

describe('config.pbtxt', () => {
  it('writes the fields in model_config.proto terms', () => {
    expect(tritonConfigText(mobilenet)).toBe(
      [
        'name: "mobilenet_v3_small"',
        'platform: "onnxruntime_onnx"',
        'max_batch_size: 32',
        'input [',
        '  {',
        '    name: "input"',
        '    data_type: TYPE_FP32',
        '    format: FORMAT_NCHW',
        '    dims: [ 3, 224, 224 ]',
        '  }',
        ']',
        'output [',
        '  {',
        '    name: "logits"',
        '    data_type: TYPE_FP32',
        '    dims: [ 1000 ]',
        '    label_filename: "labels.txt"',
        '  }',
        ']',
        'dynamic_batching {',
        '  preferred_batch_size: [ 8, 16, 32 ]',
        '  max_queue_delay_microseconds: 2000',
        '}',
        'instance_group [',
        '  {',
        '    count: 1',
        '    kind: KIND_CPU',
        '  }',
        ']',
        '',
      ].join('\n'),
    );
  });

  it('escapes strings as protobuf text format does: quotes, backslashes, control bytes, UTF-8 as octal', () => {
    expect(pbtxtString('a"b\\c\'d\ne\tf\u0001é')).toBe('"a\\"b\\\\c\\\'d\\ne\\tf\\001\\303\\251"');
  });

  const refusals: [string, Partial<TritonModelConfig>, string][] = [
    [
      'a negative max_batch_size',
      { maxBatchSize: -1 },
      'Triton config max_batch_size: expected an integer from 0 to 2147483647, received -1',
    ],
    [
      'a zero dim',
      { inputs: [{ name: 'input', datatype: 'FP32', dims: [3, 0, 224] }] },
      'Triton config input[0].dims[1]: expected an integer from 1 to 9007199254740991, received 0',
    ],
    ['no outputs', { outputs: [] }, 'Triton config output: at least one is needed'],
    [
      'dynamic batching without batching',
      { maxBatchSize: 0 },
      'Triton config dynamic_batching: needs max_batch_size > 0 (a model that batches)',
    ],
    [
      'a preferred batch size over max_batch_size',
      { dynamicBatching: { preferredBatchSize: [64] } },
      'Triton config dynamic_batching.preferred_batch_size[0]: expected an integer from 1 to 32, received 64',
    ],
    [
      'an unknown instance kind',
      { instanceGroup: [{ count: 1, kind: 'KIND_TPU' as 'KIND_CPU' }] },
      'Triton config instance_group[0].kind: expected KIND_AUTO, KIND_GPU, KIND_CPU or KIND_MODEL, received KIND_TPU',
    ],
    [
      'gpus on a CPU group',
      { instanceGroup: [{ count: 1, kind: 'KIND_CPU', gpus: [0] }] },
      'Triton config instance_group[0].gpus: only KIND_GPU takes gpus',
    ],
  ];
  for (const [what, over, message] of refusals) {
    it(`refuses ${what}`, () => {
      expect(() => tritonConfigText({ ...mobilenet, ...over })).toThrow(message);
    });
  }
});

describe('the model repository', () => {
  const model = new Uint8Array([8, 7, 6]);
  const labels = ['tench', 'goldfish', 'great white shark'];

  it('writes REPO/NAME/config.pbtxt, REPO/NAME/1/model.onnx and REPO/NAME/labels.txt', () => {
    const repo = join(dir, 'repo1');
    const w = writeTritonRepository({ repo, config: mobilenet, model, labels });
    expect(readdirSync(join(repo, 'mobilenet_v3_small')).sort()).toEqual(['1', 'config.pbtxt', 'labels.txt']);
    expect(readdirSync(join(repo, 'mobilenet_v3_small', '1'))).toEqual(['model.onnx']);
    expect(readFileSync(w.modelPath)).toEqual(Buffer.from(model));
    expect(readFileSync(w.labelsPath!, 'utf8')).toBe('tench\ngoldfish\ngreat white shark\n');
    expect(readFileSync(w.configPath, 'utf8')).toBe(tritonConfigText(mobilenet));
  });

  it('refuses to overwrite a version folder that holds files, unless asked; another version is fine', () => {
    const repo = join(dir, 'repo2');
    writeTritonRepository({ repo, config: mobilenet, model, labels });
    const versionDir = join(repo, 'mobilenet_v3_small', '1');
    expect(() => writeTritonRepository({ repo, config: mobilenet, model: new Uint8Array([1]), labels })).toThrow(
      `${versionDir} already holds a model version (model.onnx); refusing to overwrite it. Choose another version or repository, or pass overwrite (the CLI: --force) to replace its files.`,
    );
    expect(readFileSync(join(versionDir, 'model.onnx'))).toEqual(Buffer.from(model));
    writeTritonRepository({ repo, config: mobilenet, model: new Uint8Array([1]), labels, overwrite: true });
    expect(readFileSync(join(versionDir, 'model.onnx'))).toEqual(Buffer.from([1]));
    writeTritonRepository({ repo, config: mobilenet, model, labels, version: 2 });
    expect(existsSync(join(repo, 'mobilenet_v3_small', '2', 'model.onnx'))).toBe(true);
  });

  it('an empty version folder is not refused', () => {
    const repo = join(dir, 'repo3');
    mkdirSync(join(repo, 'mobilenet_v3_small', '1'), { recursive: true });
    expect(() => writeTritonRepository({ repo, config: mobilenet, model, labels })).not.toThrow();
  });

  it('refuses names that are not a folder, labels that disagree with label_filename, labels with line breaks', () => {
    const repo = join(dir, 'repo4');
    expect(() => writeTritonRepository({ repo, config: { ...mobilenet, name: '../evil' }, model, labels })).toThrow(
      "Triton config name: '../evil' cannot be a folder of a model repository",
    );
    expect(() => writeTritonRepository({ repo, config: mobilenet, model })).toThrow(
      "Triton config label_filename: 'labels.txt' is named but no labels were given",
    );
    const unlabelled = { ...mobilenet, outputs: [{ name: 'logits', datatype: 'FP32' as const, dims: [1000] }] };
    expect(() => writeTritonRepository({ repo, config: unlabelled, model, labels })).toThrow(
      'Triton config label_filename: labels were given but no output names a label_filename',
    );
    expect(() => writeTritonRepository({ repo, config: mobilenet, model, labels: ['a\nb'] })).toThrow(
      'Triton config labels[0]: a label cannot hold a line break',
    );
    expect(existsSync(repo)).toBe(false);
  });
});

// The proof from outside: Triton's own schema (model_config.proto, compiled by protoc) reads what we write.
function protobufMissing(): string | null {
  const protoc = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (protoc.error || protoc.status !== 0) return 'protoc not found (Debian: apt-get install -y protobuf-compiler)';
  const py = spawnSync(PYTHON, ['-c', 'import google.protobuf'], { encoding: 'utf8' });
  if (py.error || py.status !== 0) {
    return `${PYTHON} cannot import google.protobuf (Debian: apt-get install -y python3-protobuf)`;
  }
  return null;
}
const skip = skipUnless('protoc and Python protobuf', protobufMissing());
if (skip) console.warn(`skipping the model_config.proto checks: ${skip}`);

describe.skipIf(skip !== null)("Triton's model_config.proto parses our config.pbtxt", () => {
  function parse(files: Record<string, string>) {
    const paths = Object.entries(files).map(([name, text]) => {
      const p = join(dir, `${name}.pbtxt`);
      writeFileSync(p, text);
      return p;
    });
    const r = spawnSync(PYTHON, [CHECK, ...paths], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { config?: Record<string, unknown>; error?: string });
  }

  it('every field as written, and a repository written to disk; a wrong enum value is refused (the check has teeth)', () => {
    const odd: TritonModelConfig = {
      name: 'odd "name" \\ é',
      platform: 'onnxruntime_onnx',
      maxBatchSize: 0,
      inputs: [
        { name: 'images', datatype: 'BYTES', dims: [-1] },
        { name: 'mask', datatype: 'BOOL', format: 'FORMAT_NHWC', dims: [1, 2, 3] },
      ],
      outputs: [
        { name: 'logits', datatype: 'FP16', dims: [1000], labelFilename: 'labels.txt' },
        { name: 'ids', datatype: 'INT64', dims: [-1, 5] },
      ],
      instanceGroup: [
        { count: 2, kind: 'KIND_GPU', gpus: [0, 1], name: 'g' },
        { count: 1, kind: 'KIND_CPU' },
      ],
      defaultModelFilename: 'model.onnx',
      parameters: { intra_op_thread_count: '2', 'a"b': 'line\nbreak' },
      metricTags: { team: 'vision' },
    };
    const repo = join(dir, 'repo-proto');
    const written = writeTritonRepository({ repo, config: mobilenet, model: new Uint8Array([1]), labels: ['a'] });
    const [fromDisk, fromOdd, wrong] = parse({
      disk: readFileSync(written.configPath, 'utf8'),
      odd: tritonConfigText(odd),
      wrong: tritonConfigText(mobilenet).replace('TYPE_FP32', 'TYPE_FLOAT'),
    });
    expect(fromDisk!.config).toEqual({
      name: 'mobilenet_v3_small',
      platform: 'onnxruntime_onnx',
      max_batch_size: 32,
      input: [{ name: 'input', data_type: 'TYPE_FP32', format: 'FORMAT_NCHW', dims: ['3', '224', '224'] }],
      output: [{ name: 'logits', data_type: 'TYPE_FP32', dims: ['1000'], label_filename: 'labels.txt' }],
      dynamic_batching: { preferred_batch_size: [8, 16, 32], max_queue_delay_microseconds: '2000' },
      instance_group: [{ count: 1, kind: 'KIND_CPU' }],
    });
    expect(fromOdd!.config).toEqual({
      name: 'odd "name" \\ é',
      platform: 'onnxruntime_onnx',
      input: [
        { name: 'images', data_type: 'TYPE_STRING', dims: ['-1'] },
        { name: 'mask', data_type: 'TYPE_BOOL', format: 'FORMAT_NHWC', dims: ['1', '2', '3'] },
      ],
      output: [
        { name: 'logits', data_type: 'TYPE_FP16', dims: ['1000'], label_filename: 'labels.txt' },
        { name: 'ids', data_type: 'TYPE_INT64', dims: ['-1', '5'] },
      ],
      instance_group: [
        { name: 'g', count: 2, kind: 'KIND_GPU', gpus: [0, 1] },
        { count: 1, kind: 'KIND_CPU' },
      ],
      default_model_filename: 'model.onnx',
      metric_tags: { team: 'vision' },
      parameters: { intra_op_thread_count: { string_value: '2' }, 'a"b': { string_value: 'line\nbreak' } },
    });
    expect(wrong!.error).toMatch(/TYPE_FLOAT/);
  });
});
