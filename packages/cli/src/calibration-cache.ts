import {
  CALIBRATION_METHODS,
  type CalibrationRanges,
  type Graph,
  MobileNetError,
  observeActivations,
  quote,
  quotePath,
  readCalibration,
} from '@mobilenet/core';
import { FILE_CAPS } from '@mobilenet/runtime-node';
import { readInput } from './io.js';

/** float32's largest finite value: a range beyond it becomes infinity in the file's scales. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Names a JSON value by its type (and a number by its value), never by printing what a file put there. */
function kind(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v.length <= 40 ? quote(v) : `a string of ${v.length} characters`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return v === null ? 'null' : v === undefined ? 'nothing' : typeof v;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a calibration cache the user gave (--calibration-cache) through the guarded reader (a regular file of at
 * most 64 MiB) and checks every value before core's reader compares the model: the format, the model's name and
 * digest as strings, the method and percentile, a positive image count, and one range per activation of this model,
 * each two finite float32 numbers with min <= max. Ranges given as strings, null, 1e39 or min > max made int8
 * files at 0 dB; now each is refused naming the file, the tensor and the value.
 */
export function readCalibrationCache(path: string, graph: Graph): CalibrationRanges {
  const bytes = readInput(path, 'a calibration cache (.json)', '--calibration-cache', FILE_CAPS.calibration);
  const where = `calibration cache ${quotePath(path)}`;
  const fail = (at: string, expected: string, received: string): never => {
    throw new MobileNetError('calibration', `${where}${at}`, expected, received);
  };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('', 'UTF-8 JSON', 'bytes that are not UTF-8');
  }
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch {
    return fail('', 'JSON', `${text.length} characters that do not parse`);
  }
  if (!isObject(c)) return fail('', 'a JSON object', kind(c));
  if (c.format !== 'mobilenet-calibration/1') fail('.format', "'mobilenet-calibration/1'", kind(c.format));
  if (!isObject(c.model)) fail('.model', 'an object {name, digest}', kind(c.model));
  const model = c.model as Record<string, unknown>;
  if (typeof model.name !== 'string') fail('.model.name', 'a string', kind(model.name));
  if (typeof model.digest !== 'string' || !/^[0-9a-f]{16}$/.test(model.digest))
    fail('.model.digest', '16 hexadecimal digits', kind(model.digest));
  if (!CALIBRATION_METHODS.includes(c.method as never))
    fail('.method', `one of ${CALIBRATION_METHODS.join(', ')}`, kind(c.method));
  if (c.percentile !== undefined && !(typeof c.percentile === 'number' && c.percentile > 50 && c.percentile <= 100))
    fail('.percentile', 'a number in (50, 100]', kind(c.percentile));
  if (!Number.isSafeInteger(c.images) || (c.images as number) < 1)
    fail('.images', 'a positive integer', kind(c.images));
  checkRanges(c.ranges, graph, fail);
  // The model's identity last: core's reader names both models when the cache was made for another one.
  return readCalibration(text, graph, path);
}

/** One range per activation this model has, each finite, within float32, min <= max; no other names. */
function checkRanges(
  ranges: unknown,
  graph: Graph,
  fail: (at: string, expected: string, received: string) => never,
): void {
  if (!isObject(ranges)) {
    fail('.ranges', 'an object of {min, max} by tensor name', kind(ranges));
    return;
  }
  const wanted = new Set(observeActivations(graph).tensors);
  for (const [name, r] of Object.entries(ranges)) {
    const at = `.ranges[${quote(name, 60)}]`;
    if (!wanted.has(name)) fail(at, `a tensor of model ${quote(graph.name)}`, 'a name it does not have');
    if (!isObject(r)) fail(at, 'an object {min, max}', kind(r));
    const { min, max } = r as Record<string, unknown>;
    for (const [key, v] of [
      ['min', min],
      ['max', max],
    ] as const)
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX)
        fail(`${at}.${key}`, 'a finite number within float32', kind(v));
    if ((min as number) > (max as number)) fail(at, 'min <= max', `min ${min} > max ${max}`);
  }
  const missing = [...wanted].filter((t) => !Object.hasOwn(ranges, t));
  if (missing.length)
    fail(
      '.ranges',
      `a range for each of the ${wanted.size} activations of model ${quote(graph.name)}`,
      `none for ${missing
        .slice(0, 3)
        .map((t) => quote(t, 60))
        .join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`,
    );
}
