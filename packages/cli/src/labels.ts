import { MAX_LABEL_LENGTH, MobileNetError, checkLabels } from '@mobilenet/core';
import { UsageError, quotePath } from './errors.js';
import { LIMITS } from './args.js';
import { readInput } from './io.js';

export const LABELS_OPTION = {
  labels: { type: 'string', expects: 'a file of class names (one per line, or a JSON array)' },
} as const;

export const LABELS_HELP = `  --labels FILE       class names, one per line or a JSON array of strings, one per class of the model`;

/** The text of a labels file as names: a JSON array when it starts with '[', else one name per line. */
function parseLabels(text: string, where: string): unknown {
  if (text.trimStart().startsWith('[')) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new UsageError(
        `${where}: expected a JSON array of class names, received JSON that does not parse (${(e as Error).message})`,
      );
    }
  }
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * Reads --labels FILE: one class name per line, or a JSON array of strings. Checked against the model's class count
 * (`classes`): a wrong count, an empty or over-long name or a file that is not text is a usage error naming the
 * option, the file and what was expected.
 */
export function readLabels(path: string, classes: number, option = '--labels'): readonly string[] {
  const where = `option ${option}: ${quotePath(path)}`;
  const bytes = readInput(path, 'a file of class names', option);
  if (bytes.length > (LIMITS.classes + 1) * (MAX_LABEL_LENGTH + 2))
    throw new UsageError(`${where}: expected a file of class names, received ${bytes.length} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new UsageError(`${where}: expected UTF-8 text, received bytes that are not`);
  }
  try {
    return checkLabels(parseLabels(text, where), classes, where);
  } catch (e) {
    if (e instanceof MobileNetError && e.code === 'labels') throw new UsageError(e.message);
    throw e;
  }
}
