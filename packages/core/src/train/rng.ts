/**
 * A small seeded generator: a counter hashed by lowbias32 (Chris Wellons' 32-bit integer hash). Counter-based, so a
 * stream is a pure function of (seed, stream, position): the same numbers in Node and in a browser, in any engine.
 */
export class Rng {
  private counter = 0;
  private readonly key: number;

  /** `stream` separates independent uses of one seed (the split, the shuffles, the initial weights). */
  constructor(seed: number, stream = 0) {
    this.key = (Math.imul(seed >>> 0, 0x9e3779b9) ^ Math.imul(stream >>> 0, 0x85ebca6b)) >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    let x = (this.key + Math.imul(this.counter++, 0x632be5ab)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    x ^= x >>> 16;
    return x >>> 0;
  }

  /** A float in [0, 1) with 24 random bits (exact in float32). */
  nextFloat(): number {
    return (this.nextU32() >>> 8) * 5.9604644775390625e-8;
  }

  /** An integer in [0, n), n < 2^32 (multiply-shift: bias below 2^-32 * n, the same everywhere). */
  below(n: number): number {
    return Math.floor((this.nextU32() * n) / 4294967296);
  }

  /** Fisher-Yates shuffle in place (from the last element down). */
  shuffle(a: Int32Array): Int32Array {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }
}
