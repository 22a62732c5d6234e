import { MobileNetError } from '../ir/errors.js';
import type { Preprocessing } from '../models/convention.js';

/** Longest side a preprocessing may resize to: the resize makes an image of resize x resize x 3 floats per row pass. */
export const MAX_RESIZE = 16384;

const fail = (where: string, expected: string, received: string): never => {
  throw new MobileNetError('preprocessing', where, expected, received);
};

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
const kind = (v: unknown) => describeValue(v);

/** Three finite numbers (above 0 when `positive`): a mean or a std. */
export function isTriple(v: unknown, positive: boolean): v is [number, number, number] {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))
  );
}

function triple(v: unknown, where: string, positive: boolean): [number, number, number] {
  return isTriple(v, positive) ? v : fail(where, `3 finite numbers${positive ? ' above 0' : ''}`, kind(v));
}

function side(v: unknown, where: string): number {
  return Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_RESIZE
    ? (v as number)
    : fail(where, `an integer from 1 to ${MAX_RESIZE}`, kind(v));
}

/**
 * Checks preprocessing once, when a session opens: a missing field would otherwise fail once per image, and a std
 * of 0 would turn every probability into NaN.
 */
export function checkPreprocessing(p: unknown, where: string): Preprocessing {
  if (typeof p !== 'object' || p === null || Array.isArray(p))
    return fail(where, 'an object {mean, std, resizeMode, resize, size, interpolation}', kind(p));
  const o = p as Record<string, unknown>;
  const mean = triple(o.mean, `${where}.mean`, false);
  const std = triple(o.std, `${where}.std`, true);
  if (o.resizeMode !== 'crop' && o.resizeMode !== 'squash')
    fail(`${where}.resizeMode`, "'crop' or 'squash'", kind(o.resizeMode));
  if (o.interpolation !== 'bilinear' && o.interpolation !== 'bicubic')
    fail(`${where}.interpolation`, "'bilinear' or 'bicubic'", kind(o.interpolation));
  const size = side(o.size, `${where}.size`);
  const resize = side(o.resize, `${where}.resize`);
  if (o.resizeMode === 'crop' && resize < size)
    fail(`${where}.resize`, `at least size (${size}): the crop is taken from the resized image`, `${resize}`);
  return {
    mean,
    std,
    resizeMode: o.resizeMode as Preprocessing['resizeMode'],
    resize,
    size,
    interpolation: o.interpolation as Preprocessing['interpolation'],
  };
}

/** Parses and checks the preprocessing a model's metadata carries; `where` names the file and the key. */
export function parsePreprocessing(json: string, where: string): Preprocessing {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return fail(where, 'JSON', `${json.length} characters that do not parse`);
  }
  return checkPreprocessing(value, where);
}

/**
 * Generic labels 'class 0' ... 'class n-1', made when read: a model may declare many classes, and building every
 * string up front costs memory before a single image is classified. Behaves as a read-only array.
 */
export function classLabels(n: number): readonly string[] {
  const target = new Array<string>(n);
  const index = (p: string | symbol) =>
    typeof p === 'string' && /^(0|[1-9]\d*)$/.test(p) && Number(p) < n ? Number(p) : -1;
  return new Proxy(target, {
    get: (t, p, r) => (index(p) >= 0 ? `class ${p as string}` : Reflect.get(t, p, r)),
    has: (t, p) => index(p) >= 0 || Reflect.has(t, p),
    set: () => false,
  });
}
