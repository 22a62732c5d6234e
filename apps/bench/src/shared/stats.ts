// Order statistics the harness and the scripts share.

/** The value at share `p` of the sorted values (no interpolation): p 0.5 is the upper median. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

/** The upper median: the middle value, or the higher of the middle two. */
export const median = (xs: readonly number[]): number => percentile(xs, 0.5);
