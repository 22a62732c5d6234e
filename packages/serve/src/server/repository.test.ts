// The repository reader reads what writeTritonRepository writes (and Triton's own example config), and refuses a
// configuration this server cannot honour, naming the file and field.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type TritonModelConfig, writeTritonRepository } from '../triton/config.js';
import { parseTextProto } from './pbtxt.js';
import { readRepository } from './repository.js';

const dir = mkdtempSync(join(tmpdir(), 'mobilenet-repo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config: TritonModelConfig = {
  name: 'm',
  maxBatchSize: 16,
  inputs: [{ name: 'input', datatype: 'FP32', format: 'FORMAT_NCHW', dims: [3, 64, 64] }],
  outputs: [{ name: 'logits', datatype: 'FP32', dims: [3], labelFilename: 'labels.txt' }],
  dynamicBatching: { preferredBatchSize: [4, 8, 16], maxQueueDelayMicroseconds: 1500 },
  instanceGroup: [{ count: 1, kind: 'KIND_CPU' }],
};

describe('Triton model repositories', () => {
  it('reads what export --triton writes: the latest version, max_batch_size, the delay, the labels', () => {
    const repo = join(dir, 'a');
    const model = new Uint8Array([1, 2, 3]);
    writeTritonRepository({ repo, config, model, labels: ['cat', 'dog: big', 'émeu'] });
    writeTritonRepository({ repo, config, model, labels: ['cat', 'dog: big', 'émeu'], version: 3, overwrite: true });
    expect(readRepository(repo)).toEqual([
      {
        name: 'm',
        version: '3',
        onnxPath: join(repo, 'm', '3', 'model.onnx'),
        maxBatch: 16,
        maxQueueDelayUs: 1500,
        labels: ['cat', 'dog: big', 'émeu'],
      },
    ]);
  });

  it("parses Triton's own example (docs/examples/model_repository/densenet_onnx/config.pbtxt)", () => {
    const text = `name: "densenet_onnx"
platform: "onnxruntime_onnx"
max_batch_size : 0
input [
  {
    name: "data_0"
    data_type: TYPE_FP32
    format: FORMAT_NCHW
    dims: [ 3, 224, 224 ]
    reshape { shape: [ 1, 3, 224, 224 ] }
  }
]
output [
  {
    name: "fc6_1"
    data_type: TYPE_FP32
    dims: [ 1000 ]
    reshape { shape: [ 1, 1000, 1, 1 ] }
    label_filename: "densenet_labels.txt"
  }
]`;
    expect(parseTextProto(text, 'config.pbtxt')).toEqual({
      name: 'densenet_onnx',
      platform: 'onnxruntime_onnx',
      max_batch_size: 0,
      input: [
        {
          name: 'data_0',
          data_type: 'TYPE_FP32',
          format: 'FORMAT_NCHW',
          dims: [3, 224, 224],
          reshape: { shape: [1, 3, 224, 224] },
        },
      ],
      output: [
        {
          name: 'fc6_1',
          data_type: 'TYPE_FP32',
          dims: [1000],
          reshape: { shape: [1, 1000, 1, 1] },
          label_filename: 'densenet_labels.txt',
        },
      ],
    });
  });

  it('refuses what it cannot serve, naming the file and field', () => {
    const put = (name: string, text: string) => {
      const repo = join(dir, name);
      mkdirSync(join(repo, 'x', '1'), { recursive: true });
      writeFileSync(join(repo, 'x', 'config.pbtxt'), text);
      writeFileSync(join(repo, 'x', '1', 'model.onnx'), '');
      return repo;
    };
    const file = (repo: string) => join(repo, 'x', 'config.pbtxt');
    const tf = put('tf', 'platform: "tensorflow_savedmodel"\nmax_batch_size: 8');
    expect(() => readRepository(tf)).toThrow(
      `${file(tf)}: platform: expected "onnxruntime_onnx" (this server runs ONNX models), received "tensorflow_savedmodel"`,
    );
    const nb = put('nb', 'platform: "onnxruntime_onnx"\nmax_batch_size: 0');
    expect(() => readRepository(nb)).toThrow('max_batch_size: expected at least 1');
    const named = put('named', 'name: "y"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 2');
    expect(() => readRepository(named)).toThrow(
      `name: expected 'x' (the folder's name, as Triton requires), received "y"`,
    );
    const broken = put('broken', 'platform: "onnxruntime_onnx"\ninput [ { name: "a" ');
    expect(() => readRepository(broken)).toThrow(`${file(broken)}:end: '}' is missing`);
    expect(() => readRepository(join(dir, 'none'))).toThrow('not a folder');
  });
});
