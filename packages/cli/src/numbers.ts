import { optionError, quote } from './errors.js';

/**
 * Numbers as a person writes them on a command line. JavaScript's Number() also takes '0x20', '1e-300', ' 7',
 * 'Infinity' and '' (as 0); none of those is what a user means by a width or a resolution.
 */
const INTEGER = /^[+-]?\d{1,16}$/;
const DECIMAL = /^[+-]?(\d{1,16}(\.\d{0,16})?|\.\d{1,16})$/;
const SCIENTIFIC = /^[+-]?(\d{1,16}(\.\d{0,16})?|\.\d{1,16})([eE][+-]?\d{1,3})?$/;

export interface Range {
  readonly min: number;
  readonly max: number;
  /** The rule as the error states it, e.g. 'an integer from 1 to 256'. */
  readonly rule: string;
  /** What lifts a soft cap, said in the error when the value is only too large (e.g. 'pass --allow-large'). */
  readonly lift?: string;
}

function inRange(option: string, raw: string, v: number, r: Range): number {
  if (v < r.min || v > r.max) {
    const lift = r.lift && v > r.max ? ` (${r.lift})` : '';
    throw optionError(`--${option}`, r.rule, `${quote(raw)}${lift}`);
  }
  return v;
}

/** An integer option: digits only, within the range; undefined when not given. */
export function integer(option: string, raw: string | undefined, r: Range): number | undefined {
  if (raw === undefined) return undefined;
  if (!INTEGER.test(raw) || !Number.isSafeInteger(Number(raw))) throw optionError(`--${option}`, r.rule, quote(raw));
  return inRange(option, raw, Number(raw), r);
}

/** A decimal option ('0.75', '1', '.5'); with `scientific`, also '1e-3' (for epsilons). */
export function decimal(option: string, raw: string | undefined, r: Range, scientific = false): number | undefined {
  if (raw === undefined) return undefined;
  if (!(scientific ? SCIENTIFIC : DECIMAL).test(raw)) throw optionError(`--${option}`, r.rule, quote(raw));
  return inRange(option, raw, Number(raw), r);
}

/** An integer from min to max (both included): the range and its wording in one place. */
export const between = (min: number, max: number, lift?: string): Range => ({
  min,
  max,
  rule: `an integer from ${min} to ${max}`,
  ...(lift && { lift }),
});
