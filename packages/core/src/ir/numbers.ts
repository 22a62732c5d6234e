/** A whole number from 1 up, exactly representable (sizes, counts, batch): the one test of "a positive integer". */
export const isPositiveInteger = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;
