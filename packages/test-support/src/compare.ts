/**
 * The largest |a[i] - b[i]|. Throws when the outputs cannot be compared (different lengths, or nothing to
 * compare): a comparison of nothing must not pass as "equal".
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new Error(`maxAbsDiff: expected outputs of the same length, received ${a.length} and ${b.length}`);
  if (a.length === 0) throw new Error('maxAbsDiff: expected non-empty outputs, received two empty ones');
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) throw new Error(`maxAbsDiff: expected numbers, received ${a[i]} and ${b[i]} at index ${i}`);
    m = Math.max(m, d);
  }
  return m;
}

/** The largest |x|: the scale a difference is measured against. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
