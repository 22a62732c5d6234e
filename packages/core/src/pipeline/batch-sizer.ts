/**
 * Chooses how many images to run at once. A fixed-batch model gets its batch; a requested size is used as is;
 * otherwise sizes `start`, 2 x `start`, ... (from 1 by default) are each timed on the real stream (best of two runs, the first run at a size warms
 * it up) and doubling stops once the time per image improves by less than `gain`, or at `max`.
 * @internal
 */
export class BatchSizer {
  private size: number;
  private settled: boolean;
  private readonly best = new Map<number, number>();
  private runsAtSize = 0;

  constructor(
    fixed: number | null,
    requested: number | undefined,
    private readonly max: number,
    private readonly gain = 0.05,
    start = 1,
  ) {
    this.size = fixed ?? requested ?? Math.max(1, Math.min(start, max));
    this.settled = fixed !== null || requested !== undefined || max <= 1;
  }

  /** The batch size to assemble next. */
  get next(): number {
    return this.size;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** Reports how long a full batch of `size` images took to run. */
  record(size: number, ms: number): void {
    if (this.settled || size !== this.size) return;
    this.runsAtSize++;
    if (this.runsAtSize === 1) return; // warm-up: first run at a new size allocates
    const perImage = ms / size;
    this.best.set(size, Math.min(this.best.get(size) ?? Infinity, perImage));
    if (this.runsAtSize < 3) return;
    const previous = this.best.get(size / 2);
    if (previous !== undefined && this.best.get(size)! > previous * (1 - this.gain)) {
      this.size = size / 2;
      this.settled = true;
    } else if (size * 2 > this.max) {
      this.settled = true;
    } else {
      this.size = size * 2;
      this.runsAtSize = 0;
    }
  }
}
