// The bench's one SQNR: the tools' fidelity measures (top-1 agreement, top-5 overlap, SQNR, max abs diff), which
// `mobilenet compare` and the export self-checks report too, so a bench number and a CLI number mean the same thing.
import { type Fidelity, fidelity } from '@mobilenet/tools';

export { type Fidelity, fidelity };

/** Signal over the difference of one pair of logits, in dB (Infinity when they are equal). */
export function sqnr(ref: ArrayLike<number>, x: ArrayLike<number>): number {
  return fidelity([ref], [x]).sqnrDb;
}
