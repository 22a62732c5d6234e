/**
 * Counts slots; `acquire` waits while all are taken. Bounds the decoded pixels held at once.
 * @internal
 */
export class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) return void this.free--;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
  /** `n` more slots from now on (waiters first). */
  grow(n: number): void {
    for (let i = 0; i < n; i++) this.release();
  }
}
