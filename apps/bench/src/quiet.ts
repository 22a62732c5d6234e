// Was the run quiet? The peak and the rows are measured under whatever load the machine has: a peak taken while
// others worked, against rows timed in a quieter moment, gave a row "99.1% of peak". The harness therefore measures
// the peak before and after the rows and flags a run whose peak or load moved by more than DRIFT.
import type { Peak } from './peak.js';

/** Largest change tolerated: of the peak between before and after, and of other processes' load, per core. */
export const DRIFT = 0.1;

export interface RunConditions {
  readonly cores: number;
  /** os.loadavg() before the first peak and after the last row. */
  readonly load: { readonly start: readonly number[]; readonly end: readonly number[] };
  /** The most threads one cell of this run uses: the benchmark's own share of the load average at the end. */
  readonly threads: number;
  readonly peaksBefore: readonly Peak[];
  readonly peaksAfter: readonly Peak[];
}

/** The higher of the two measurements at each thread count: a busy moment lowers a peak, nothing raises it. */
export function bestPeaks(before: readonly Peak[], after: readonly Peak[]): Peak[] {
  return before.map((b) => {
    const a = after.find((p) => p.threads === b.threads);
    return a && a.gmacs > b.gmacs ? a : b;
  });
}

/** Why the run was not quiet; empty when it was. Each reason names the numbers it is based on. */
export function runWarnings(c: RunConditions): string[] {
  const out: string[] = [];
  const limit = DRIFT * c.cores;
  const start = c.load.start[0]!;
  const end = c.load.end[0]!;
  // At the start nothing of ours runs yet; at the end the 1-min average holds about our own cells' threads.
  if (start > limit)
    out.push(
      `1-min load average ${start.toFixed(2)} at the start, above ${limit.toFixed(2)} (${100 * DRIFT}% of ${c.cores} cores): other processes shared the cores, so times and the peak are lower than on a quiet machine`,
    );
  if (end - c.threads > limit)
    out.push(
      `1-min load average ${end.toFixed(2)} at the end, more than ${limit.toFixed(2)} above the ${c.threads} thread(s) the benchmark runs: other processes ran during the rows`,
    );
  for (const b of c.peaksBefore) {
    const a = c.peaksAfter.find((p) => p.threads === b.threads);
    if (!a) continue;
    const drift = Math.abs(a.gmacs - b.gmacs) / Math.max(a.gmacs, b.gmacs);
    if (drift > DRIFT)
      out.push(
        `fp32 peak at ${b.threads} thread(s) ${b.gmacs.toFixed(1)} GMAC/s before the rows and ${a.gmacs.toFixed(1)} after (${(100 * drift).toFixed(1)}% apart, above ${100 * DRIFT}%): the machine's speed changed during the run; % peak uses the higher`,
      );
  }
  return out;
}

/** One line for the text and Markdown reports. */
export function quietLine(warnings: readonly string[]): string {
  if (!warnings.length)
    return `Quiet run: other processes' load average under ${100 * DRIFT}% of the cores at the start and the end, and the fp32 peak measured before and after the rows within ${100 * DRIFT}% of each other.`;
  return `NOT a quiet run (compare its numbers with care): ${warnings.join('; ')}.`;
}
