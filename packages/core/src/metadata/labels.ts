import { IMAGENET_LABELS } from '../data/imagenet-labels.js';
import { MobileNetError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { LABELS_KEY, METADATA_KEYS, logitsOutput } from './keys.js';

/** Longest class name accepted (a name is printed in a table; a megabyte of one is a mistake). */
export const MAX_LABEL_LENGTH = 1000;

/** The markers our builder writes under LABELS_KEY when the model carries no names of its own. */
const MARKERS = ['imagenet-1000', 'imagenet-1001', 'custom'] as const;

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

/** The marker for a class count: which names a model built with that many classes means by default. */
export function labelsMarker(classes: number): (typeof MARKERS)[number] {
  return classes === 1001 ? 'imagenet-1001' : classes === 1000 ? 'imagenet-1000' : 'custom';
}

/**
 * The graph with its class names in its metadata (`mobilenet.labels`, a JSON array), which the runtimes read back
 * as the labels of `classify`. The count must match the model's classes.
 */
export function withLabels(graph: Graph, labels: readonly string[], source = 'labels'): Graph {
  const n = classCount(graph);
  if (typeof n !== 'number') return fail(`model '${graph.name}'`, "a 'logits' output [N, classes]", 'none');
  checkLabels(labels, n, source);
  return { ...graph, metadata: { ...graph.metadata, [LABELS_KEY]: JSON.stringify(labels) } };
}

/**
 * A graph's class count: its config's `classes` for a detector or segmenter (whose outputs are boxes or maps, marked
 * by `mobilenet.detection` / `mobilenet.segmentation`), else the width of its logits.
 */
function classCount(graph: Graph): number | undefined {
  const dense = METADATA_KEYS.detection in graph.metadata || METADATA_KEYS.segmentation in graph.metadata;
  const raw = graph.metadata[METADATA_KEYS.config];
  if (dense && raw) {
    const classes = (JSON.parse(raw) as { classes?: unknown }).classes;
    if (typeof classes === 'number') return classes;
  }
  const n = logitsOutput(graph.outputs)?.type.shape[1];
  return typeof n === 'number' ? n : undefined;
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

/** ImageNet labels for a class count: 1000, or 1001 with TF's background class at index 0. */
export function imagenetLabels(classes: number): readonly string[] | undefined {
  if (classes === 1000) return IMAGENET_LABELS;
  if (classes === 1001) return ['background', ...IMAGENET_LABELS];
  return undefined;
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

/**
 * A model's class names, from its metadata: its own names (a JSON array); 'custom' means none, so 'class N'; else,
 * and for a model that says nothing (not ours), ImageNet's for 1000 or 1001 (background first) classes, else 'class N'.
 */
export function modelLabels(
  metadata: Readonly<Record<string, string>>,
  classes: number,
  source: string,
): readonly string[] {
  const own = metadataLabels(metadata, classes, source);
  if (own) return own;
  const custom = Object.hasOwn(metadata, LABELS_KEY) && metadata[LABELS_KEY] === 'custom';
  return (custom ? undefined : imagenetLabels(classes)) ?? classLabels(classes);
}
