import { MobileNetError } from '../ir/errors.js';
import { METADATA_KEYS } from './keys.js';

/** What the weights of a model are: from a checkpoint, seeded random, or none (a graph for analysis). */
export type WeightsKind = 'trained' | 'seeded' | 'none';

/** What `mobilenet.config` records of a model: enough to rebuild it, and what its weights are. */
export interface ConfigRecord {
  readonly arch: string;
  readonly width: number;
  readonly resolution: number;
  readonly classes: number;
  readonly convention: string;
  readonly minimalistic: boolean;
  readonly reducedTail: boolean;
  readonly dilated: boolean;
  readonly dropout: number;
  readonly bnEps: number;
  readonly weights: WeightsKind;
}

/**
 * A file's `mobilenet.config` entry, as a plain object ({} when absent). A file that is not ours, or was edited,
 * may carry anything there: bad JSON is an error naming the file and the key, never a bare SyntaxError, and the
 * value is not echoed back (it may be megabytes).
 */
export function readConfig(metadata: Readonly<Record<string, string>>, file: string): Record<string, unknown> {
  const raw = Object.hasOwn(metadata, METADATA_KEYS.config) ? metadata[METADATA_KEYS.config] : undefined;
  if (raw === undefined) return {};
  const where = `${file}: metadata '${METADATA_KEYS.config}'`;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new MobileNetError('metadata', where, 'a JSON object', `invalid JSON (${raw.length} characters)`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MobileNetError('metadata', where, 'a JSON object', Array.isArray(value) ? 'an array' : typeof value);
  return value as Record<string, unknown>;
}

/** What a config says its weights are; undefined when it says nothing we know (not ours). */
export function weightsKind(config: Record<string, unknown>): WeightsKind | undefined {
  const w = config.weights;
  return w === 'trained' || w === 'seeded' || w === 'none' ? w : undefined;
}
