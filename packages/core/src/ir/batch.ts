import { MobileNetError } from './errors.js';
import { isPositiveInteger } from './numbers.js';

/** The name of a dynamic leading dimension in a graph; options spell it 'dynamic'. */
export const DYNAMIC_BATCH = 'batch';

/** The batch option as given: a size, or 'dynamic'. */
export type BatchOption = number | 'dynamic';

/** A batch option as the graph's leading dimension. The one place the option is checked and 'dynamic' renamed. */
export function resolveBatch(batch: BatchOption): number | typeof DYNAMIC_BATCH {
  if (batch === 'dynamic') return DYNAMIC_BATCH;
  if (!isPositiveInteger(batch)) {
    throw new MobileNetError(
      'option',
      'option batch',
      "a positive integer or 'dynamic'",
      typeof batch === 'string' ? `'${batch}'` : String(batch),
    );
  }
  return batch;
}
