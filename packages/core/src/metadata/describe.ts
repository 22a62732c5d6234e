/**
 * Names a JSON value by its type (and a number by its value, a string up to `longest` characters by itself), never
 * by printing at length what a file or a server put there.
 */
export function describeValue(v: unknown, longest = 40): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v.length <= longest ? JSON.stringify(v) : `a string of ${v.length} characters`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return v === null ? 'null' : v === undefined ? 'nothing' : typeof v;
}

/** Three finite numbers (above 0 when `positive`): a mean or a std. */
export function isTriple(v: unknown, positive: boolean): v is [number, number, number] {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))
  );
}
