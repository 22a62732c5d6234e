import type { Io } from './io.js';

/** A progress bar on stderr, drawn only on a terminal (logs and pipes stay clean). */
export class Progress {
  private done = 0;
  private readonly start = performance.now();

  constructor(
    private readonly io: Io,
    private readonly total: number,
    private readonly label: string,
  ) {}

  tick(n = 1): void {
    this.done += n;
    if (!this.io.isTty) return;
    const width = 30;
    const filled = Math.round((width * this.done) / this.total);
    const secs = (performance.now() - this.start) / 1000;
    const rate = this.done / Math.max(secs, 1e-3);
    const eta = (this.total - this.done) / Math.max(rate, 1e-9);
    this.io.err(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total}  ${rate.toFixed(1)}/s  eta ${eta.toFixed(0)}s `,
    );
  }

  finish(): void {
    if (this.io.isTty) this.io.err('\n');
  }
}
