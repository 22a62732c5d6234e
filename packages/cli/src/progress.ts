import type { Io } from './io.js';

/** Seconds of measured work before a rate is shown. */
const MEASURED_S = 0.5;

/** A progress bar on stderr, drawn only on a terminal (logs and pipes stay clean). */
export class Progress {
  private done = 0;
  /** When the first items were done: the rate is measured from there. */
  private first: { at: number; done: number } | undefined;

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
    this.io.err(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total}  ${this.speed()} `,
    );
  }

  /**
   * Rate and time left, once measured: the first items include the model's start-up, so a rate from them alone
   * (`1/12 1000.0/s eta 0s`) says nothing. Shown from the second tick, after at least MEASURED_S.
   */
  private speed(): string {
    const now = performance.now();
    this.first ??= { at: now, done: this.done };
    const secs = (now - this.first.at) / 1000;
    const since = this.done - this.first.done;
    if (since < 1 || secs < MEASURED_S) return ' '.repeat(24);
    const rate = since / secs;
    const eta = (this.total - this.done) / rate;
    return `${rate.toFixed(1)}/s  eta ${eta.toFixed(0)}s`.padEnd(24);
  }

  finish(): void {
    if (this.io.isTty) this.io.err('\n');
  }
}
