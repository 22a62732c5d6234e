import { MobileNetError } from '../../ir/errors.js';
import type { Graph } from '../../ir/graph.js';

/** How activation ranges are taken from calibration data. */
export type CalibrationMethod = 'minmax' | 'percentile';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile'];

/** The real interval [min, max] a tensor took over the calibration images. */
export interface TensorRange {
  readonly min: number;
  readonly max: number;
}

/** Which model a set of ranges belongs to: its graph name and a digest of its nodes and weights. */
export interface ModelIdentity {
  readonly name: string;
  readonly digest: string;
}

/** Activation ranges from calibration, as written to and read from a cache file (JSON). */
export interface CalibrationRanges {
  readonly format: 'mobilenet-calibration/1';
  readonly model: ModelIdentity;
  readonly method: CalibrationMethod;
  /** The percentile kept on each side, for method 'percentile' (e.g. 99.99). */
  readonly percentile?: number;
  /** How many images the ranges come from. */
  readonly images: number;
  readonly ranges: Readonly<Record<string, TensorRange>>;
}

/** FNV-1a over bytes, 32 bits, continuing from `h`. Enough to tell models apart; not a security hash. */
function fnv(bytes: Uint8Array, h: number): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}

/** The identity of a float model: two digests (structure, weights) so that a cache from another model is refused. */
export function modelIdentity(graph: Graph): ModelIdentity {
  const text = new TextEncoder();
  const structure = graph.nodes.map((n) => `${n.op}(${n.inputs.join(',')})->${n.outputs.join(',')}`).join(';');
  let w = 0x811c9dc5;
  for (const i of graph.initializers) {
    w = fnv(text.encode(i.name), w);
    if (i.data) w = fnv(new Uint8Array(i.data.buffer, i.data.byteOffset, i.data.byteLength), w);
  }
  const s = fnv(text.encode(structure), 0x811c9dc5);
  return { name: graph.name, digest: `${s.toString(16).padStart(8, '0')}${w.toString(16).padStart(8, '0')}` };
}

export class CalibrationError extends MobileNetError {
  constructor(where: string, expected: string, received: string, detail?: string) {
    super('calibration', where, expected, received, detail);
    this.name = 'CalibrationError';
  }
}

/** Parses a calibration cache and checks it was made for `graph`; the error names the file and both models. */
export function readCalibration(json: string, graph: Graph, source: string): CalibrationRanges {
  let c: CalibrationRanges;
  try {
    c = JSON.parse(json) as CalibrationRanges;
  } catch (e) {
    throw new CalibrationError(
      `calibration cache '${source}'`,
      'JSON',
      'text that does not parse',
      (e as Error).message,
    );
  }
  if (c?.format !== 'mobilenet-calibration/1' || typeof c.ranges !== 'object' || !c.model) {
    throw new CalibrationError(
      `calibration cache '${source}'`,
      "format 'mobilenet-calibration/1' with model and ranges",
      `format '${c?.format}'`,
    );
  }
  const id = modelIdentity(graph);
  if (c.model.name !== id.name || c.model.digest !== id.digest) {
    throw new CalibrationError(
      `calibration cache '${source}'`,
      `ranges for model '${id.name}' (digest ${id.digest})`,
      `ranges made for model '${c.model.name}' (digest ${c.model.digest})`,
      'calibrate again for this model, or pass the cache that was made for it',
    );
  }
  return c;
}

/**
 * Collects per-tensor ranges over calibration batches. 'minmax' keeps the extremes. 'percentile' keeps a histogram
 * per tensor over [-bound, bound] whose bound doubles (merging bin pairs, exactly) when a value falls outside, and
 * reads the lower and upper percentiles from it, so one outlier pixel does not stretch the scale of a tensor.
 */
export class RangeCollector {
  private readonly minmax = new Map<string, { min: number; max: number }>();
  private readonly hist = new Map<string, { bound: number; bins: Float64Array }>();
  private count = 0;
  static readonly BINS = 4096; // even: bins split at 0

  constructor(
    readonly method: CalibrationMethod,
    readonly percentile = 99.99,
  ) {
    if (!(percentile > 50 && percentile <= 100))
      throw new CalibrationError('option percentile', 'a number in (50, 100]', `${percentile}`);
  }

  get images(): number {
    return this.count;
  }

  /** Adds one batch of images (`images` of them) of every observed tensor's values. */
  add(values: Readonly<Record<string, ArrayLike<number>>>, images: number): void {
    this.count += images;
    for (const [name, data] of Object.entries(values)) {
      let m = this.minmax.get(name);
      if (!m) this.minmax.set(name, (m = { min: Infinity, max: -Infinity }));
      let lo = m.min;
      let hi = m.max;
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      m.min = lo;
      m.max = hi;
      if (this.method === 'percentile') this.histogram(name, data, Math.max(-lo, hi));
    }
  }

  private histogram(name: string, data: ArrayLike<number>, extent: number): void {
    const B = RangeCollector.BINS;
    let h = this.hist.get(name);
    if (!h)
      this.hist.set(
        name,
        (h = { bound: Math.max(2 ** Math.ceil(Math.log2(extent || 1)), 2 ** -20), bins: new Float64Array(B) }),
      );
    while (extent > h.bound) {
      // Doubling the bound: bins 2k and 2k+1 of each half become one, and the halves move to the middle.
      const next = new Float64Array(B);
      const half = B / 2;
      for (let i = 0; i < B; i++) next[half + Math.floor((i - half) / 2)]! += h.bins[i]!;
      h.bins = next;
      h.bound *= 2;
    }
    const scale = B / (2 * h.bound);
    for (let i = 0; i < data.length; i++) {
      const k = Math.min(B - 1, Math.max(0, Math.floor((data[i]! + h.bound) * scale)));
      h.bins[k]! += 1;
    }
  }

  /** The ranges of every observed tensor. */
  ranges(): Record<string, TensorRange> {
    const out: Record<string, TensorRange> = {};
    for (const [name, m] of this.minmax) {
      const h = this.hist.get(name);
      out[name] = h ? this.fromHistogram(h, m) : { min: m.min, max: m.max };
    }
    return out;
  }

  private fromHistogram(h: { bound: number; bins: Float64Array }, m: TensorRange): TensorRange {
    const total = h.bins.reduce((a, b) => a + b, 0);
    const tail = (total * (100 - this.percentile)) / 100;
    const width = (2 * h.bound) / h.bins.length;
    let acc = 0;
    let lo = 0;
    while (lo < h.bins.length - 1 && acc + h.bins[lo]! <= tail) acc += h.bins[lo++]!;
    acc = 0;
    let hi = h.bins.length - 1;
    while (hi > 0 && acc + h.bins[hi]! <= tail) acc += h.bins[hi--]!;
    // Bin edges, never beyond what was seen.
    return { min: Math.max(m.min, -h.bound + lo * width), max: Math.min(m.max, -h.bound + (hi + 1) * width) };
  }

  /** The cache file's content for these ranges. */
  result(model: ModelIdentity): CalibrationRanges {
    return {
      format: 'mobilenet-calibration/1',
      model,
      method: this.method,
      ...(this.method === 'percentile' && { percentile: this.percentile }),
      images: this.count,
      ranges: this.ranges(),
    };
  }
}
