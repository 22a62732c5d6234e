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

/** Compares logits image by image; the arrays must pair up (same count, same length). */
export function fidelity(ref: readonly ArrayLike<number>[], cand: readonly ArrayLike<number>[]): Fidelity {
  if (ref.length !== cand.length || ref.some((r, i) => r.length !== cand[i]!.length)) {
    throw new Error(
      `fidelity: expected logits that pair up, received ${ref.length} and ${cand.length} images of ${ref[0]?.length} and ${cand[0]?.length} values`,
    );
  }
  let signal = 0;
  let noise = 0;
  let maxAbsDiff = 0;
  let agree = 0;
  let overlap = 0;
  ref.forEach((r, i) => {
    const c = cand[i]!;
    for (let j = 0; j < r.length; j++) {
      const d = r[j]! - c[j]!;
      signal += r[j]! * r[j]!;
      noise += d * d;
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(d));
    }
    if (topK(r, 1)[0] === topK(c, 1)[0]) agree++;
    const t5 = new Set(topK(r, 5));
    overlap += topK(c, 5).filter((k) => t5.has(k)).length / 5;
  });
  const n = Math.max(ref.length, 1);
  return {
    images: ref.length,
    top1Agreement: agree / n,
    top5Overlap: overlap / n,
    sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
    maxAbsDiff,
  };
}
