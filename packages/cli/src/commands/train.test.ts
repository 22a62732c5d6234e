import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METADATA_KEYS, fromOnnx, modelLabels, predictHead, readSafetensors, stratifiedSplit } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { ROOT, blankPng, cleanTmp, run, tmp } from '../../test/testing.js';

afterAll(cleanTmp);
const PY = '/usr/bin/python3';
const FIXTURE = join(ROOT, 'tools/fixtures/image_folders.py');
const BASE = ['--base', 'v3-small', '--width', '0.5', '--resolution', '64'];
const HEAD = ['--optimizer', 'lbfgs', '--weight-decay', '0.001'];

/** A digits ImageFolder from scikit-learn's load_digits (tools/fixtures/image_folders.py). */
function digits(perClass: number, dir = tmp()): string {
  const r = spawnSync(PY, [FIXTURE, dir, '--per-class', String(perClass)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${FIXTURE} failed (Debian's python3-sklearn is needed): ${r.stderr}`);
  return dir;
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The ImageFolder's files in the order train reads them, with their labels. */
function listing(dir: string): { files: string[]; labels: number[]; classes: string[] } {
  const classes = readdirSync(dir).sort();
  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((c, i) => {
    for (const f of readdirSync(join(dir, c)).sort()) {
      files.push(join(dir, c, f));
      labels.push(i);
    }
  });
  return { files, labels, classes };
}

const cacheDir = (err: string) => /\(cache (.+): model sha256/.exec(err)![1]!;

async function runFile(file: string, feeds: Record<string, ort.Tensor>) {
  const s = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

describe('mobilenet train: digits end to end, checked against scikit-learn and onnxruntime', () => {
  let dir: string;
  let out: string;
  let first: Awaited<ReturnType<typeof run>>;
  const cache = tmp();
  beforeAll(async () => {
    dir = digits(60);
    out = join(tmp(), 'digits.onnx');
    // L-BFGS: the solver scikit-learn runs, on the same objective (weightDecay = 1 / (C * training rows)).
    first = await run('train', dir, '-o', out, ...BASE, '--cache', cache, ...HEAD);
  }, 120_000);

  it('reports per epoch and per class, and writes the model and the chart', () => {
    expect(first.code, first.err).toBe(0);
    expect(first.err).toMatch(/embeddings: 0 from the cache, 600 computed/);
    expect(first.err).toMatch(/iteration 10: objective [\d.]+, max \|gradient\| [\d.e+-]+/);
    expect(first.out).toMatch(/class\s+precision\s+recall\s+f1\s+support/);
    expect(first.out).toMatch(/true \\ pred/);
    expect(first.out).toMatch(/validation images wrong/);
    expect(readFileSync(out.replace('.onnx', '.confusion.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it("its validation accuracy is within 1 point of scikit-learn's LogisticRegression on the same embeddings", () => {
    const { files, labels } = listing(dir);
    const dirCache = cacheDir(first.err);
    const rows = files.map((f) => readFileSync(join(dirCache, `${sha(f)}.f32`)));
    const split = stratifiedSplit(Int32Array.from(labels), 10, 0.15, 0);
    const bin = join(tmp(), 'x.f32');
    writeFileSync(bin, Buffer.concat(rows));
    const spec = join(tmp(), 'split.json');
    writeFileSync(spec, JSON.stringify({ n: files.length, labels, train: [...split.train], val: [...split.val] }));
    // weightDecay is on the mean loss: scikit-learn's C = 1 / (weightDecay * training rows).
    const script = `
import json, sys, numpy as np
from sklearn.linear_model import LogisticRegression
s = json.load(open(sys.argv[2])); x = np.fromfile(sys.argv[1], '<f4').reshape(s['n'], -1).astype(np.float64)
y = np.array(s['labels']); tr, va = np.array(s['train']), np.array(s['val'])
m = LogisticRegression(multi_class='multinomial', solver='lbfgs', C=1 / (0.001 * len(tr)), max_iter=10000, tol=1e-8)
m.fit(x[tr], y[tr]); print(m.score(x[va], y[va]))`;
    const r = spawnSync(PY, ['-c', script, bin, spec], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const sklearn = Number(r.stdout.trim());
    const ours = Number(/validation: ([\d.]+)% of 90 images/.exec(first.out)![1]) / 100;
    expect(Math.abs(ours - sklearn), `ours ${ours}, scikit-learn ${sklearn}`).toBeLessThanOrEqual(0.01 + 1e-9);
  });

  it("the file's probabilities equal backbone-then-head to 1e-5, and classify prints the folder names", async () => {
    const { files, labels } = listing(dir);
    const graph = fromOnnx(readFileSync(out)).graph;
    expect(modelLabels(graph.metadata, 10, 'out')).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const training = JSON.parse(graph.metadata[METADATA_KEYS.training]!);
    expect(training).toMatchObject({
      seed: 0,
      imagesPerClass: { '0': 60, '9': 60 },
      head: { head: 'linear', optimizer: 'lbfgs', weightDecay: 0.001 },
    });
    expect(training.base).toMatch(/v3-small/);
    const c = await run('classify', files[7 * 60 + 3]!, '--model', out, '--top', '2');
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/\n\S+\s+1\s+[\d.]+\s+\d\s+\d\n/);
    expect(c.err).not.toMatch(/carry no meaning/);
    // head-only ONNX and safetensors of the same run (same seed, same cached embeddings)
    const headOnnx = join(tmp(), 'head.onnx');
    const headSt = join(tmp(), 'head.safetensors');
    const common = [...BASE, '--cache', cache, ...HEAD, '--head-only'];
    for (const o of [headOnnx, headSt]) {
      const r = await run('train', dir, '-o', o, ...common);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/embeddings: 600 from the cache, 0 computed/);
    }
    const weights = readSafetensors(readFileSync(headSt), 'head.safetensors');
    expect(JSON.parse(weights.metadata.classes!)).toEqual(listing(dir).classes);
    const W = new Float32Array(new Uint8Array(weights.tensors.get('head.fc.weight')!.bytes).buffer);
    const b = new Float32Array(new Uint8Array(weights.tensors.get('head.fc.bias')!.bytes).buffer);
    const D = W.length / 10;
    const head = { kind: 'linear' as const, dim: D, classes: listing(dir).classes, weights: { W, b } };
    // 10 images through the fused file vs their cached embeddings through the safetensors head and the head-only file
    const pick = [0, 61, 122, 183, 244, 305, 366, 427, 488, 599];
    const cached = Buffer.concat(pick.map((i) => readFileSync(join(cacheDir(first.err), `${sha(files[i]!)}.f32`))));
    const emb = new Float32Array(new Uint8Array(cached).buffer);
    const expected = predictHead(head, emb).probabilities;
    const alone = await runFile(headOnnx, { embedding: new ort.Tensor('float32', emb, [pick.length, D]) });
    const fused = await run('classify', ...pick.map((i) => files[i]!), '--model', out, '--top', '10', '--json');
    expect(fused.code, fused.err).toBe(0);
    const got = (JSON.parse(fused.out) as { top: { index: number; label: string; probability: number }[] }[]).filter(
      (l) => l.top,
    );
    expect(got).toHaveLength(pick.length);
    got.forEach((g, i) => {
      for (const t of g.top) {
        expect(Math.abs(t.probability - expected[i * 10 + t.index]!)).toBeLessThan(1e-5);
        expect(
          Math.abs((alone.probabilities!.data as Float32Array)[i * 10 + t.index]! - expected[i * 10 + t.index]!),
        ).toBeLessThan(1e-5);
      }
      expect(g.top[0]!.label).toBe(String(predictHead(head, emb.subarray(i * D, (i + 1) * D)).labels[0]));
    });
    expect(labels.length).toBe(600);
  }, 120_000);

  it('a second run with one more class embeds only the new images; --precision fp16 on the fused file', async () => {
    const more = tmp();
    cpSync(dir, more, { recursive: true });
    mkdirSync(join(more, 'blank'));
    for (const i of [0, 1, 2, 3]) writeFileSync(join(more, 'blank', `${i}.png`), await blankPng(32 + i, 32));
    const o = join(tmp(), 'more.onnx');
    const r = await run('train', more, '-o', o, ...BASE, '--cache', cache, '--precision', 'fp16', '--epochs', '5');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/embeddings: 600 from the cache, 4 computed/);
    expect(r.err).toMatch(/epoch 1: loss [\d.]+, val loss [\d.]+, val accuracy [\d.]+%/);
    expect(r.err).toMatch(/epoch 5: loss/);
    const graph = fromOnnx(readFileSync(o)).graph;
    expect(graph.metadata[METADATA_KEYS.precision]).toBe('fp16');
    expect(modelLabels(graph.metadata, 11, 'more')).toContain('blank');
    const c = await run('classify', join(more, 'blank', '0.png'), '--model', o, '--json');
    expect(c.code, c.err).toBe(0);
    const top = JSON.parse(c.out)[0].top as { probability: number }[];
    expect(top.reduce((a, t) => a + t.probability, 0)).toBeLessThanOrEqual(1.001);
  }, 120_000);
});
