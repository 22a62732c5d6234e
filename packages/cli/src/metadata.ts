/**
 * Our `mobilenet.config` metadata entry of an ONNX file, as a plain object ({} when absent). A file that is not
 * ours, or was edited, may carry anything there: bad JSON is an error naming the file and the key, never a bare
 * SyntaxError, and the value is not echoed back (it may be megabytes).
 */
export function readConfig(metadata: Readonly<Record<string, string>>, file: string): Record<string, unknown> {
  const raw = metadata['mobilenet.config'];
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(
      `${file}: metadata 'mobilenet.config': expected a JSON object, received invalid JSON (${raw.length} characters)`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      `${file}: metadata 'mobilenet.config': expected a JSON object, received ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/** What the file says its weights are: 'trained' (from a checkpoint), 'seeded', 'none', or unknown (not ours). */
export function weightsKind(config: Record<string, unknown>): 'trained' | 'seeded' | 'none' | undefined {
  const w = config.weights;
  return w === 'trained' || w === 'seeded' || w === 'none' ? w : undefined;
}
