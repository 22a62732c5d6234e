// `mobilenet export --triton REPO`: a repository entry Triton's own schema reads (model_config.proto, compiled by
// protoc), a model.onnx that onnxruntime runs at any batch with the logits of a plain export, and labels.txt with
// one label per class; bad combinations are usage errors and an existing version is not replaced without --force.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGENET_LABELS } from '@mobilenet/core';
import { skipUnless } from '@mobilenet/test-support';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, cleanTmp, run, tmp } from '../test/testing.js';

afterAll(cleanTmp);
const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
const CHECK = join(ROOT, 'tools/fixtures/triton_config_check.py');
const SMALL = ['--arch', 'v3-small', '--convention', 'torchvision', '--resolution', '64'];

function protobufMissing(): string | null {
  const protoc = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (protoc.error || protoc.status !== 0) return 'protoc not found (Debian: apt-get install -y protobuf-compiler)';
  const py = spawnSync(PYTHON, ['-c', 'import google.protobuf'], { encoding: 'utf8' });
  return py.status === 0 ? null : `${PYTHON} cannot import google.protobuf (apt-get install -y python3-protobuf)`;
}
const noProtobuf = skipUnless('protoc and Python protobuf', protobufMissing());
if (noProtobuf) console.warn(`skipping the model_config.proto check: ${noProtobuf}`);

async function logits(file: string, batch: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(file);
  const x = new Float32Array(batch * 3 * 64 * 64).map((_, i) => Math.sin(i % (3 * 64 * 64)));
  const out = await s.run({ input: new ort.Tensor('float32', x, [batch, 3, 64, 64]) });
  await s.release();
  return out.logits!.data as Float32Array;
}

describe('export --triton REPO', () => {
  it('writes config.pbtxt, 1/model.onnx and labels.txt that Triton reads: batches of any size, the logits of -o', async () => {
    const repo = join(tmp(), 'models');
    const r = await run('export', ...SMALL, '--triton', repo, '--max-batch', '16');
    expect(r.err).toContain(`wrote ${join(repo, 'v3_small/config.pbtxt')}`);
    expect(r.code).toBe(0);
    const config = readFileSync(join(repo, 'v3_small/config.pbtxt'), 'utf8');
    expect(config).toContain('platform: "onnxruntime_onnx"');
    expect(config).toContain('max_batch_size: 16');
    expect(config).toContain('label_filename: "labels.txt"');
    const labels = readFileSync(join(repo, 'v3_small/labels.txt'), 'utf8').trimEnd().split('\n');
    expect(labels).toEqual(IMAGENET_LABELS);

    // The same model from -o, at batch 1, against the repository's file at batch 3: same logits per image.
    const plain = join(tmp(), 'plain.onnx');
    expect((await run('export', ...SMALL, '-o', plain)).code).toBe(0);
    const one = await logits(plain, 1);
    const three = await logits(join(repo, 'v3_small/1/model.onnx'), 3);
    expect(three.length).toBe(3 * 1000);
    for (let b = 0; b < 3; b++) for (let i = 0; i < 1000; i += 97) expect(three[b * 1000 + i]).toBeCloseTo(one[i]!, 4);
  });

  it.skipIf(noProtobuf !== null)(
    "Triton's model_config.proto parses it: inputs, outputs, batching, instances",
    async () => {
      const repo = join(tmp(), 'models');
      const args = ['--triton', repo, '--name', 'small', '--max-batch', '8', '--instances', '2', '--kind', 'gpu'];
      expect((await run('export', ...SMALL, ...args)).code).toBe(0);
      const r = spawnSync(PYTHON, [CHECK, join(repo, 'small/config.pbtxt')], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      const { config } = JSON.parse(r.stdout.trim()) as { config: Record<string, unknown> };
      expect(config).toMatchObject({
        name: 'small',
        platform: 'onnxruntime_onnx',
        max_batch_size: 8,
        input: [{ name: 'input', data_type: 'TYPE_FP32', format: 'FORMAT_NCHW', dims: ['3', '64', '64'] }],
        output: [
          { name: 'logits', data_type: 'TYPE_FP32', dims: ['1000'], label_filename: 'labels.txt' },
          { name: 'embedding', data_type: 'TYPE_FP32', dims: ['576'] },
        ],
        dynamic_batching: { preferred_batch_size: [4, 8], max_queue_delay_microseconds: '1000' },
        instance_group: [{ count: 2, kind: 'KIND_GPU' }],
      });
    },
  );

  it('refuses -o, a fixed --batch, --target opencv and its options without --triton; keeps an existing version', async () => {
    const repo = join(tmp(), 'models');
    const usage = async (args: string[], text: string) => {
      const r = await run('export', ...SMALL, ...args);
      expect(r.err).toContain(text);
      expect(r.code).toBe(2);
    };
    await usage(['--triton', repo, '-o', 'x.onnx'], 'option -o/--output: expected no -o with --triton');
    await usage(['--triton', repo, '--batch', '4'], "option --batch: expected 'dynamic' or nothing with --triton");
    await usage(['--triton', repo, '--target', 'opencv'], 'option --target: expected onnxruntime with --triton');
    await usage(['-o', join(repo, 'm.onnx'), '--max-batch', '4'], 'option --max-batch: expected --triton REPO');
    await usage(['--triton', repo, '--kind', 'tpu'], 'option --kind: expected cpu or gpu');
    expect(existsSync(repo)).toBe(false);

    expect((await run('export', ...SMALL, '--triton', repo)).code).toBe(0);
    const model = join(repo, 'v3_small/1/model.onnx');
    writeFileSync(model, 'the user edited this');
    const again = await run('export', ...SMALL, '--triton', repo);
    expect(again.code).toBe(1);
    expect(again.err).toContain('--force');
    expect(readFileSync(model, 'utf8')).toBe('the user edited this');
    expect((await run('export', ...SMALL, '--triton', repo, '--force')).code).toBe(0);
    expect(readFileSync(model).length).toBeGreaterThan(1000);
  });
});
