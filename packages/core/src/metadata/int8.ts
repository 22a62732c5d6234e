import { METADATA_KEYS } from './keys.js';

/** The target an int8 file was quantized for, when its metadata says one we know; anything else is ignored. */
export function int8TargetOf(metadata: Readonly<Record<string, string>>): 'portable' | 'vnni' | undefined {
  if (!Object.hasOwn(metadata, METADATA_KEYS.int8)) return undefined;
  try {
    const target = (JSON.parse(metadata[METADATA_KEYS.int8]!) as { target?: unknown } | null)?.target;
    return target === 'portable' || target === 'vnni' ? target : undefined;
  } catch {
    return undefined;
  }
}
