import { bytesToFloat32, decodeBase64, encodeBase64, float32ToBytes } from './base64.js';
import { KnnFormatError, TrainError } from './errors.js';
import { checkInt, describe } from './validate.js';

/** 'similarity': a neighbour votes max(cosine, 0); 'uniform': one vote each. */
export type KnnWeighting = 'similarity' | 'uniform';

/** The serialized form: plain JSON, examples as little-endian float32 in base64. */
export interface KnnJson {
  format: 'mobilenet-knn';
  version: 1;
  k: number;
  weighting: KnnWeighting;
  dim: number;
  classes: string[];
  /** A class index per stored example. */
  labels: number[];
  /** count x dim float32, little-endian, base64. */
  embeddings: string;
}

export const KNN_FORMAT = 'mobilenet-knn';
export const KNN_VERSION = 1;

export interface KnnNeighbor {
  /** Index of the stored example (in the order added). */
  index: number;
  classIndex: number;
  similarity: number;
}

export interface KnnPrediction {
  classIndex: number;
  label: string;
  /** Per class, its share of the votes (sums to 1). */
  confidences: Float64Array;
  /** The k nearest, most similar first (ties: lower index first). */
  neighbors: KnnNeighbor[];
}

/**
 * A cosine-similarity k-nearest-neighbour classifier for zero-training use: add embeddings under class names,
 * predict, save with toJSON()/toBytes() and load with KnnClassifier.fromJSON()/fromBytes() (tfjs's knn-classifier has
 * no serialization). Similarities are computed in float64 from the float32 examples: dot(q, x) / (|q| |x|).
 * The predicted class has the most votes; on equal votes, the class of the more similar neighbour wins.
 */
export class KnnClassifier {
  readonly classes: string[] = [];
  private data = new Float32Array(0);
  private norms = new Float64Array(0);
  private labels = new Int32Array(0);
  private count = 0;

  constructor(
    readonly dim: number,
    readonly k = 3,
    readonly weighting: KnnWeighting = 'similarity',
  ) {
    checkInt('dim', dim, 1);
    checkInt('k', k, 1);
    if (weighting !== 'similarity' && weighting !== 'uniform') {
      throw new TrainError('train-option', 'option weighting', "'similarity' or 'uniform'", describe(weighting));
    }
  }

  get size(): number {
    return this.count;
  }

  /** Adds one example (dim values) under a class name (a new name adds a class); returns its index. */
  add(embedding: Float32Array, className: string): number {
    if (!(embedding instanceof Float32Array) || embedding.length !== this.dim) {
      throw new TrainError('train-input', 'embedding', `a Float32Array of ${this.dim}`, describe(embedding));
    }
    if (typeof className !== 'string' || className === '') {
      throw new TrainError('train-input', 'className', 'a non-empty string', describe(className));
    }
    const norm = normOf(embedding, 0, this.dim, `embedding (class "${className}")`);
    let c = this.classes.indexOf(className);
    if (c < 0) c = this.classes.push(className) - 1;
    this.reserve(this.count + 1);
    this.data.set(embedding, this.count * this.dim);
    this.norms[this.count] = norm;
    this.labels[this.count] = c;
    return this.count++;
  }

  private reserve(n: number): void {
    if (n <= this.labels.length) return;
    const cap = Math.max(n, this.labels.length * 2, 16);
    const data = new Float32Array(cap * this.dim);
    data.set(this.data.subarray(0, this.count * this.dim));
    const norms = new Float64Array(cap);
    norms.set(this.norms.subarray(0, this.count));
    const labels = new Int32Array(cap);
    labels.set(this.labels.subarray(0, this.count));
    this.data = data;
    this.norms = norms;
    this.labels = labels;
  }

  /** Cosine similarity of the query with every stored example, in the order added. */
  similarities(query: Float32Array): Float64Array {
    if (!(query instanceof Float32Array) || query.length !== this.dim) {
      throw new TrainError('train-input', 'query', `a Float32Array of ${this.dim}`, describe(query));
    }
    const qn = normOf(query, 0, this.dim, 'query');
    const out = new Float64Array(this.count);
    for (let i = 0; i < this.count; i++) {
      const o = i * this.dim;
      let s = 0;
      for (let j = 0; j < this.dim; j++) s += query[j]! * this.data[o + j]!;
      out[i] = s / (qn * this.norms[i]!);
    }
    return out;
  }

  predict(query: Float32Array, k = this.k): KnnPrediction {
    checkInt('k', k, 1);
    if (this.count === 0) throw new TrainError('train-input', 'KnnClassifier', 'at least one example', 'none added');
    const sims = this.similarities(query);
    const order = Array.from({ length: this.count }, (_, i) => i);
    order.sort((a, b) => sims[b]! - sims[a]! || a - b);
    const neighbors = order
      .slice(0, Math.min(k, this.count))
      .map((index) => ({ index, classIndex: this.labels[index]!, similarity: sims[index]! }));
    const votes = new Float64Array(this.classes.length);
    let total = 0;
    for (const n of neighbors) {
      const v = this.weighting === 'uniform' ? 1 : Math.max(n.similarity, 0);
      votes[n.classIndex] = votes[n.classIndex]! + v;
      total += v;
    }
    if (total === 0) {
      // Every neighbour is orthogonal or opposite: count them instead.
      for (const n of neighbors) votes[n.classIndex] = votes[n.classIndex]! + 1;
      total = neighbors.length;
    }
    // The most votes; on equal votes, the class whose first neighbour comes first.
    let best = neighbors[0]!.classIndex;
    for (const n of neighbors) if (votes[n.classIndex]! > votes[best]!) best = n.classIndex;
    const confidences = votes.map((v) => v / total);
    return { classIndex: best, label: this.classes[best]!, confidences, neighbors };
  }

  toJSON(): KnnJson {
    return {
      format: KNN_FORMAT,
      version: KNN_VERSION,
      k: this.k,
      weighting: this.weighting,
      dim: this.dim,
      classes: this.classes.slice(),
      labels: Array.from(this.labels.subarray(0, this.count)),
      embeddings: encodeBase64(float32ToBytes(this.data.subarray(0, this.count * this.dim))),
    };
  }

  /** UTF-8 JSON. */
  toBytes(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.toJSON()));
  }

  static fromBytes(bytes: Uint8Array): KnnClassifier {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (e) {
      throw new KnnFormatError('knn bytes', 'UTF-8 JSON', `${bytes.length} bytes that are not`, String(e));
    }
    return KnnClassifier.fromJSON(json);
  }

  /** Reads toJSON()'s object back, checking every field (the error names the field). */
  static fromJSON(json: unknown): KnnClassifier {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new KnnFormatError('knn', 'an object', describe(json));
    }
    const o = json as Record<string, unknown>;
    if (o.format !== KNN_FORMAT) throw new KnnFormatError('knn field "format"', `"${KNN_FORMAT}"`, describe(o.format));
    if (o.version !== KNN_VERSION) {
      throw new KnnFormatError(
        'knn field "version"',
        String(KNN_VERSION),
        describe(o.version),
        typeof o.version === 'number' && o.version > KNN_VERSION
          ? 'written by a newer version: upgrade to read it'
          : undefined,
      );
    }
    const posInt = (name: string): number => {
      const v = o[name];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new KnnFormatError(`knn field "${name}"`, 'an integer >= 1', describe(v));
      }
      return v;
    };
    const k = posInt('k');
    const dim = posInt('dim');
    if (o.weighting !== 'similarity' && o.weighting !== 'uniform') {
      throw new KnnFormatError('knn field "weighting"', '"similarity" or "uniform"', describe(o.weighting));
    }
    const classes = o.classes;
    if (!Array.isArray(classes) || classes.some((c) => typeof c !== 'string' || c === '')) {
      throw new KnnFormatError('knn field "classes"', 'an array of non-empty strings', describe(classes));
    }
    if (new Set(classes).size !== classes.length) {
      throw new KnnFormatError('knn field "classes"', 'distinct names', JSON.stringify(classes));
    }
    const labels = o.labels;
    if (!Array.isArray(labels))
      throw new KnnFormatError('knn field "labels"', 'an array of class indices', describe(labels));
    labels.forEach((l, i) => {
      if (typeof l !== 'number' || !Number.isInteger(l) || l < 0 || l >= classes.length) {
        throw new KnnFormatError(`knn field "labels[${i}]"`, `a class index in [0, ${classes.length})`, describe(l));
      }
    });
    if (typeof o.embeddings !== 'string') {
      throw new KnnFormatError('knn field "embeddings"', 'a base64 string', describe(o.embeddings));
    }
    const bytes = decodeBase64(o.embeddings);
    if (bytes === null)
      throw new KnnFormatError('knn field "embeddings"', 'padded base64', 'other characters or length');
    if (bytes.length !== labels.length * dim * 4) {
      throw new KnnFormatError(
        'knn field "embeddings"',
        `${labels.length} labels x ${dim} float32 = ${labels.length * dim * 4} bytes`,
        `${bytes.length} bytes`,
      );
    }
    const values = bytesToFloat32(bytes);
    const knn = new KnnClassifier(dim, k, o.weighting);
    knn.classes.push(...(classes as string[]));
    knn.reserve(labels.length);
    for (let i = 0; i < labels.length; i++) {
      let norm: number;
      try {
        norm = normOf(values, i * dim, dim, `example ${i}`);
      } catch (e) {
        throw new KnnFormatError(
          `knn field "embeddings" (example ${i})`,
          'finite values, not all zero',
          (e as Error).message,
        );
      }
      knn.norms[i] = norm;
      knn.labels[i] = labels[i] as number;
    }
    knn.data.set(values);
    knn.count = labels.length;
    return knn;
  }
}

function normOf(v: Float32Array, offset: number, dim: number, where: string): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const x = v[offset + j]!;
    if (!Number.isFinite(x)) throw new TrainError('train-input', `${where}[${j}]`, 'a finite number', String(x));
    s += x * x;
  }
  if (s === 0)
    throw new TrainError(
      'train-input',
      where,
      'a vector that is not all zeros',
      'all zeros',
      'cosine similarity is undefined',
    );
  return Math.sqrt(s);
}
