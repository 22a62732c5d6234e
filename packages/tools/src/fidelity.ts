/** How closely a candidate model's logits follow a reference's, over a set of images. */
export interface Fidelity {
  readonly images: number;
  /** Share of images whose top-1 class agrees. */
  readonly top1Agreement: number;
  /** Mean share of the reference's top-5 classes found in the candidate's top 5. */
  readonly top5Overlap: number;
  /** Signal-to-quantization-noise ratio of the logits, in dB: 10 log10(sum ref^2 / sum (ref - cand)^2). */
  readonly sqnrDb: number;
  readonly maxAbsDiff: number;
}

const topK = (v: ArrayLike<number>, k: number): number[] =>
  Array.from({ length: v.length }, (_, i) => i)
    .sort((a, b) => v[b]! - v[a]! || a - b)
    .slice(0, k);

/**
 * The same measures, added one image at a time (a folder of thousands of images is never held at once). Logits that
 * are not finite are refused by the caller before they get here: NaN would read as 'SQNR NaN'.
 */
export class FidelityAccumulator {
  private signal = 0;
  private noise = 0;
  private maxAbsDiff = 0;
  private agree = 0;
  private overlap = 0;
  private count = 0;

  add(r: ArrayLike<number>, c: ArrayLike<number>): void {
    if (r.length !== c.length)
      throw new Error(`fidelity: expected logits that pair up, received ${r.length} and ${c.length} values`);
    for (let j = 0; j < r.length; j++) {
      const d = r[j]! - c[j]!;
      this.signal += r[j]! * r[j]!;
      this.noise += d * d;
      this.maxAbsDiff = Math.max(this.maxAbsDiff, Math.abs(d));
    }
    if (topK(r, 1)[0] === topK(c, 1)[0]) this.agree++;
    const t5 = new Set(topK(r, 5));
    this.overlap += topK(c, 5).filter((k) => t5.has(k)).length / 5;
    this.count++;
  }

  result(): Fidelity {
    const n = Math.max(this.count, 1);
    return {
      images: this.count,
      top1Agreement: this.agree / n,
      top5Overlap: this.overlap / n,
      sqnrDb: this.noise === 0 ? Infinity : 10 * Math.log10(this.signal / this.noise),
      maxAbsDiff: this.maxAbsDiff,
    };
  }
}

/** Compares logits image by image; the arrays must pair up (same count, same length). */
export function fidelity(ref: readonly ArrayLike<number>[], cand: readonly ArrayLike<number>[]): Fidelity {
  if (ref.length !== cand.length || ref.some((r, i) => r.length !== cand[i]!.length)) {
    throw new Error(
      `fidelity: expected logits that pair up, received ${ref.length} and ${cand.length} images of ${ref[0]?.length} and ${cand[0]?.length} values`,
    );
  }
  const acc = new FidelityAccumulator();
  for (const [i, r] of ref.entries()) acc.add(r, cand[i]!);
  return acc.result();
}
