/**
 * Logits that span less than this (max - min over the classes of one image) carry no signal: every class gets the
 * same probability. A network whose every image comes out so is dead (zeroed or untrained weights, collapsed
 * BatchNorm statistics), however plausible the rest of the file looks.
 */
export const FLAT_LOGITS = 1e-6;

function range(row: Float32Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of row) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi - lo;
}

/** Counts the images whose logits are flat, fed by classifyAll's `onLogits`. */
export class SignalCheck {
  private flat = 0;
  private seen = 0;

  readonly onLogits = (_image: string, logits: Float32Array): void => {
    this.seen++;
    if (!(range(logits) >= FLAT_LOGITS)) this.flat++;
  };

  /** A warning line when images had flat logits (every one, or how many), else undefined. */
  warning(): string | undefined {
    if (this.flat === 0) return undefined;
    const which = this.flat === this.seen ? `every image (${this.seen})` : `${this.flat} of ${this.seen} images`;
    return (
      `warning: the logits of ${which} span less than ${FLAT_LOGITS.toExponential(0)}: they carry no signal (every class gets the ` +
      'same probability); the weights may be zeroed, untrained or damaged'
    );
  }
}
