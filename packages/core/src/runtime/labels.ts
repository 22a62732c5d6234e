import { MobileNetError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';

/** The metadata key of a model's class names: a JSON array of strings, or 'imagenet-1000', 'imagenet-1001', 'custom'. */
export const LABELS_KEY = 'mobilenet.labels';

/** Longest class name accepted (a name is printed in a table; a megabyte of one is a mistake). */
export const MAX_LABEL_LENGTH = 1000;

const fail = (where: string, expected: string, received: string): never => {
  throw new MobileNetError('labels', where, expected, received);
};

/**
 * Checks class names: one per class, each a non-empty string on one line, at most MAX_LABEL_LENGTH characters.
 * `where` names the file or metadata key they came from; a bad name is given by its position, not echoed.
 */
export function checkLabels(labels: unknown, classes: number, where: string): readonly string[] {
  if (!Array.isArray(labels)) return fail(where, 'an array of class names', typeof labels);
  labels.forEach((l, i) => {
    if (typeof l !== 'string') fail(`${where}: label ${i + 1}`, 'a string', l === null ? 'null' : typeof l);
    if (l.trim() === '') fail(`${where}: label ${i + 1}`, 'a class name', 'an empty one');
    if (l.length > MAX_LABEL_LENGTH)
      fail(`${where}: label ${i + 1}`, `at most ${MAX_LABEL_LENGTH} characters`, `${l.length}`);
    if (/[\u0000-\u001f\u007f]/.test(l)) fail(`${where}: label ${i + 1}`, 'one line of text', 'a control character');
  });
  if (labels.length !== classes) fail(where, `${classes} class names (one per class of the model)`, `${labels.length}`);
  return labels as string[];
}

/** The class count of a graph's 'logits' output (its first output when none is so named), if fixed. */
function classesOf(graph: Graph): number | undefined {
  const logits = graph.outputs.find((o) => o.name === 'logits') ?? graph.outputs[0];
  const n = logits?.type.shape[1];
  return typeof n === 'number' ? n : undefined;
}

/**
 * The graph with its class names in its metadata (`mobilenet.labels`, a JSON array), which the runtimes read back
 * as the labels of `classify`. The count must match the model's classes.
 */
export function withLabels(graph: Graph, labels: readonly string[], source = 'labels'): Graph {
  const classes = classesOf(graph);
  if (classes === undefined) return fail(`model '${graph.name}'`, "a 'logits' output [N, classes]", 'none');
  checkLabels(labels, classes, source);
  return { ...graph, metadata: { ...graph.metadata, [LABELS_KEY]: JSON.stringify(labels) } };
}

/**
 * The class names a model's metadata carries (a JSON array in `mobilenet.labels`), checked against its class
 * count; undefined when it names none (absent, or one of the markers 'imagenet-1000', 'imagenet-1001', 'custom').
 */
export function metadataLabels(
  metadata: Readonly<Record<string, string>>,
  classes: number,
  source: string,
): readonly string[] | undefined {
  const raw = Object.hasOwn(metadata, LABELS_KEY) ? metadata[LABELS_KEY]! : undefined;
  if (raw === undefined || !raw.trimStart().startsWith('[')) return undefined;
  const where = `model '${source}': metadata '${LABELS_KEY}'`;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail(where, 'a JSON array of class names', `${raw.length} characters that do not parse`);
  }
  return checkLabels(value, classes, where);
}
