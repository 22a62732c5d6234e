import { describe, expect, it } from 'vitest';
import { features, readHeads } from '../../test/fixtures/train/read.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { KnnFormatError, TrainError } from './errors.js';
import { KnnClassifier, type KnnJson } from './knn.js';
import { Rng } from './rng.js';

const { data, missing } = readHeads();
if (missing) console.warn(`knn.test.ts skipped: ${missing}`);

/** Brute force: cosine in float64, sorted by similarity then index, votes summed per class. */
function bruteForce(
  stored: Float32Array[],
  labels: number[],
  q: Float32Array,
  k: number,
  weighting: 'similarity' | 'uniform',
) {
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const sims = stored.map((v, i) => ({ i, s: v.reduce((s, x, j) => s + x * q[j]!, 0) / (norm(v) * norm(q)) }));
  sims.sort((a, b) => b.s - a.s || a.i - b.i);
  const top = sims.slice(0, k);
  const votes = new Map<number, number>();
  for (const t of top)
    votes.set(labels[t.i]!, (votes.get(labels[t.i]!) ?? 0) + (weighting === 'uniform' ? 1 : Math.max(t.s, 0)));
  let best = labels[top[0]!.i]!;
  for (const t of top) if (votes.get(labels[t.i]!)! > votes.get(best)!) best = labels[t.i]!;
  return { best, top: top.map((t) => t.i), sims: top.map((t) => t.s) };
}

describe.skipIf(missing !== null)('KnnClassifier on load_digits', () => {
  it('agrees with a brute-force cosine computation and survives JSON and bytes round trips', () => {
    const c = data!.cases.digits;
    const x = features(c);
    const row = (i: number) => x.slice(i * 64, i * 64 + 64);
    const stored: Float32Array[] = [];
    const labels: number[] = [];
    for (const weighting of ['similarity', 'uniform'] as const) {
      const knn = new KnnClassifier(64, 5, weighting);
      stored.length = 0;
      labels.length = 0;
      for (let i = 0; i < 400; i++) {
        knn.add(row(i), c.classes[c.labels[i]!]!);
        stored.push(row(i));
        labels.push(knn.classes.indexOf(c.classes[c.labels[i]!]!));
      }
      expect(knn.size).toBe(400);
      const json = knn.toJSON();
      const fromJson = KnnClassifier.fromJSON(JSON.parse(JSON.stringify(json)));
      const fromBytes = KnnClassifier.fromBytes(knn.toBytes());
      expect(fromJson.toJSON()).toEqual(json);
      expect(fromBytes.toJSON()).toEqual(json);
      let correct = 0;
      for (let i = 400; i < 600; i++) {
        const q = row(i);
        const p = knn.predict(q);
        const ref = bruteForce(stored, labels, q, 5, weighting);
        expect(p.neighbors.map((n) => n.index)).toEqual(ref.top);
        p.neighbors.forEach((n, j) => {
          expect(n.similarity).toBeCloseTo(ref.sims[j]!, 12);
        });
        expect(p.classIndex).toBe(ref.best);
        expect(fromJson.predict(q)).toEqual(p);
        expect(fromBytes.predict(q)).toEqual(p);
        expect(p.confidences.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
        if (p.label === c.classes[c.labels[i]!]) correct++;
      }
      // scikit-learn's KNeighborsClassifier(5, metric='cosine', algorithm='brute') on the same rows: 0.87 (uniform).
      expect(correct / 200).toBeGreaterThan(0.85);
    }
  });
});

describe('KnnClassifier', () => {
  const small = () => {
    const knn = new KnnClassifier(2, 3);
    knn.add(Float32Array.from([1, 0]), 'east');
    knn.add(Float32Array.from([0, 1]), 'north');
    knn.add(Float32Array.from([1, 0.1]), 'east');
    return knn;
  };

  it('votes by similarity; equal votes go to the class of the nearer neighbour', () => {
    const knn = small();
    expect(knn.predict(Float32Array.from([1, 1])).label).toBe('east');
    const tie = new KnnClassifier(2, 2, 'uniform');
    tie.add(Float32Array.from([0, 1]), 'north');
    tie.add(Float32Array.from([1, 0]), 'east');
    expect(tie.predict(Float32Array.from([1, 0.5])).label).toBe('east');
    expect(tie.predict(Float32Array.from([0.5, 1])).label).toBe('north');
    // Only opposite neighbours: votes fall back to counts.
    const p = knn.predict(Float32Array.from([-1, -1]));
    expect(p.confidences[0]).toBeCloseTo(2 / 3, 15);
  });

  it('refuses zero, non-finite and wrongly sized vectors', () => {
    const knn = small();
    expect(() => knn.add(Float32Array.from([0, 0]), 'x')).toThrow(
      /embedding \(class "x"\): expected a vector that is not all zeros/,
    );
    expect(() => knn.add(Float32Array.from([Number.NaN, 0]), 'x')).toThrow(TrainError);
    expect(() => knn.add(new Float32Array(3), 'x')).toThrow(/embedding: expected a Float32Array of 2/);
    expect(() => knn.predict(new Float32Array(2))).toThrow(/query: expected a vector that is not all zeros/);
    expect(() => new KnnClassifier(2, 2).predict(Float32Array.from([1, 0]))).toThrow(/at least one example/);
    expect(() => new KnnClassifier(2, 0)).toThrow(/option k: expected an integer >= 1/);
  });

  it('fromJSON names the field that is wrong', () => {
    const good = small().toJSON();
    const bad = (patch: Partial<Record<keyof KnnJson, unknown>>, pattern: RegExp) => {
      const call = () => KnnClassifier.fromJSON({ ...good, ...patch });
      expect(call).toThrow(KnnFormatError);
      expect(call).toThrow(pattern);
    };
    bad({ format: 'tfjs-knn' }, /knn field "format": expected "mobilenet-knn", received "tfjs-knn"/);
    bad(
      { version: 2 },
      /knn field "version": expected 1, received 2 \(written by a newer version: upgrade to read it\)/,
    );
    bad({ version: undefined }, /knn field "version": expected 1, received undefined/);
    bad({ k: 0 }, /knn field "k": expected an integer >= 1, received 0/);
    bad({ dim: 2.5 }, /knn field "dim"/);
    bad({ weighting: 'distance' }, /knn field "weighting"/);
    bad({ classes: ['east', 'east'] }, /knn field "classes": expected distinct names/);
    bad({ classes: 'east' }, /knn field "classes": expected an array of non-empty strings/);
    bad({ labels: [0, 1, 2] }, /knn field "labels\[2\]": expected a class index in \[0, 2\), received 2/);
    bad({ embeddings: 'abc' }, /knn field "embeddings": expected padded base64/);
    bad(
      { embeddings: good.embeddings.slice(0, -4) },
      /knn field "embeddings": expected 3 labels x 2 float32 = 24 bytes, received 21 bytes/,
    );
    bad(
      { embeddings: encodeBase64(new Uint8Array(24)) },
      /knn field "embeddings" \(example 0\): expected finite values, not all zero/,
    );
    expect(() => KnnClassifier.fromJSON([])).toThrow(/knn: expected an object, received an array of 0/);
    expect(() => KnnClassifier.fromBytes(new Uint8Array([0xff, 0x7b]))).toThrow(/knn bytes: expected UTF-8 JSON/);
  });

  it('base64 round-trips every length and matches Node', () => {
    const rng = new Rng(4);
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, () => rng.below(256));
      const text = encodeBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(Array.from(decodeBase64(text)!)).toEqual(Array.from(bytes));
    }
    expect(decodeBase64('ab=c')).toBeNull();
    expect(decodeBase64('abc')).toBeNull();
  });
});
