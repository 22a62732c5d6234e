import { describe, expect, it } from 'vitest';
import { runOrt } from '../../test/testing.js';
import { MobileNetError } from '../ir/errors.js';
import { METADATA_KEYS } from '../metadata/keys.js';
import { modelLabels } from '../metadata/labels.js';
import { buildModel } from '../models/build.js';
import '../models/builtin.js';
import { toOnnx } from '../onnx/write.js';
import { fromOnnx } from '../onnx/read.js';
import { predict, trainHead } from '../train/head.js';
import { fuseHead, headGraph } from './fuse.js';

const R = 64;
const N = 24;
const CLASSES = ['cat', 'dog', 'émile'];

/** Seeded images: three classes that differ in brightness and colour, so the head has something to learn. */
function images(): { data: Float32Array; labels: number[] } {
  const data = new Float32Array(N * 3 * R * R);
  const labels: number[] = [];
  let s = 12345;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  for (let i = 0; i < N; i++) {
    const c = i % 3;
    labels.push(c);
    for (let ch = 0; ch < 3; ch++)
      for (let p = 0; p < R * R; p++) data[(i * 3 + ch) * R * R + p] = next() + (ch === c ? 1.5 : -0.5);
  }
  return { data, labels };
}

describe('fuseHead: backbone + head in one graph', async () => {
  const base = buildModel({
    arch: 'v3-small',
    width: 0.5,
    resolution: R,
    embedding: true,
    batch: 'dynamic',
    weights: 7,
  });
  const { data, labels } = images();
  const input = { input: { data, dims: [N, 3, R, R] } };
  const out = await runOrt(toOnnx(base.graph), input);
  const embeddings = out.embedding!.data as Float32Array;
  const dim = out.embedding!.dims[1]!;

  for (const kind of ['linear', 'mlp'] as const) {
    it(`${kind}: the fused file's probabilities equal the backbone's embeddings run through the head, to 1e-5`, async () => {
      const head = trainHead({
        embeddings,
        labels,
        classes: CLASSES,
        head: kind,
        ...(kind === 'mlp' && { hidden: 16 }),
        epochs: 20,
        lr: 0.01,
        val: 0,
        seed: 3,
      });
      const expected = predict(head, embeddings).probabilities;
      const fused = fuseHead(base.graph, head, {
        base: 'v3-small seeded',
        imagesPerClass: { cat: 8, dog: 8, émile: 8 },
        valAccuracy: null,
        seed: 3,
        head: head.options,
      });
      const bytes = toOnnx(fused);
      const got = await runOrt(bytes, input);
      expect(got.probabilities!.dims).toEqual([N, 3]);
      const p = got.probabilities!.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i]! - expected[i]!));
      expect(worst).toBeLessThan(1e-5);
      // the embedding output is still the base's, and the logits' softmax is the probabilities
      expect(got.embedding!.data).toEqual(embeddings);
      // the head alone gives the same probabilities from the embeddings
      const alone = await runOrt(toOnnx(headGraph(head)), { embedding: { data: embeddings, dims: [N, dim] } });
      const q = alone.probabilities!.data as Float32Array;
      for (let i = 0; i < q.length; i++) expect(Math.abs(q[i]! - expected[i]!)).toBeLessThan(1e-5);
      // what the file says: its labels, its class count, how it was trained; the base's classifier is gone
      const read = fromOnnx(bytes).graph;
      expect(modelLabels(read.metadata, 3, 'fused')).toEqual(CLASSES);
      expect(JSON.parse(read.metadata[METADATA_KEYS.config]!).classes).toBe(3);
      expect(JSON.parse(read.metadata[METADATA_KEYS.training]!)).toMatchObject({ seed: 3, valAccuracy: null });
      expect(read.metadata[METADATA_KEYS.preprocessing]).toBe(base.graph.metadata[METADATA_KEYS.preprocessing]);
      expect(read.initializers.some((i) => i.name.startsWith('classifier'))).toBe(false);
    });
  }

  it('refuses a base without an embedding output, and a head of another width', () => {
    const head = trainHead({ embeddings, labels, classes: CLASSES, epochs: 1, val: 0 });
    const plain = buildModel({ arch: 'v3-small', width: 0.5, resolution: R, weights: 7 });
    expect(() => fuseHead(plain.graph, head)).toThrow(MobileNetError);
    expect(() => fuseHead(plain.graph, head)).toThrow(/'embedding' output.*received outputs 'logits'/);
    const narrow = trainHead({ embeddings: embeddings.slice(0, N * 4), labels, classes: CLASSES, epochs: 1, val: 0 });
    expect(() => fuseHead(base.graph, narrow)).toThrow(
      `width 4 (the head was trained on 4-wide embeddings), received width ${dim}`,
    );
  });
});
