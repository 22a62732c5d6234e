// What every reader of a request shares: the one way to refuse (a ProtocolError naming the field) and to read
// scalar fields and parameters' values.
import { ProtocolError } from './types.js';

export const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (typeof v === 'object') return 'an object';
  return String(v);
};

export function fail(path: string, message: string, status = 400): never {
  throw new ProtocolError(path ? `${path}: ${message}` : message, status);
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function checkFields(path: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      fail(path, `unknown field '${key}'; expected only ${allowed.join(', ')}`);
    }
  }
}

export function readBool(path: string, v: string | number | boolean | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(path, `expected a boolean, received ${describe(v)}`);
  return v as boolean;
}

export function readCount(path: string, v: string | number | boolean | undefined, max = Number.MAX_SAFE_INTEGER) {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    fail(path, `expected an integer from 0 to ${max}, received ${describe(v)}`);
  }
  return v as number;
}
