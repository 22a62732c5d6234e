import { TrainError } from './errors.js';

/** Checks the embeddings, labels and class names given to training; returns the embedding size and class counts. */
export function checkExamples(
  embeddings: unknown,
  labels: unknown,
  classes: unknown,
  dimOption?: number,
): { dim: number; counts: Int32Array; labels: Int32Array; classes: string[] } {
  if (!(embeddings instanceof Float32Array)) {
    throw new TrainError(
      'train-input',
      'embeddings',
      'a Float32Array (rows of one embedding each, row-major)',
      describe(embeddings),
    );
  }
  let y: Int32Array;
  if (labels instanceof Int32Array) y = labels;
  else if (Array.isArray(labels)) y = Int32Array.from(labels as number[]);
  else throw new TrainError('train-input', 'labels', 'an Int32Array of class indices', describe(labels));
  const names = checkClasses(classes);
  const n = y.length;
  if (n === 0) throw new TrainError('train-input', 'labels', 'at least one example per class', 'no labels');
  if (dimOption !== undefined) checkInt('dim', dimOption, 1);
  const dim = dimOption ?? embeddings.length / n;
  if (!Number.isInteger(dim) || dim < 1 || embeddings.length !== n * dim) {
    throw new TrainError(
      'train-input',
      'embeddings',
      dimOption === undefined
        ? `a multiple of the ${n} labels (one row of D values per label)`
        : `${n} labels x ${dimOption} values = ${n * dimOption} values`,
      `${embeddings.length} values`,
      'embeddings and labels have mismatched lengths',
    );
  }
  const counts = new Int32Array(names.length);
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= names.length) {
      throw new TrainError('train-input', `labels[${i}]`, `a class index in [0, ${names.length})`, String(c));
    }
    counts[c]!++;
  }
  for (let c = 0; c < names.length; c++) {
    if (counts[c]! < 2) {
      throw new TrainError(
        'train-class-size',
        `class "${names[c]}" (index ${c})`,
        'at least 2 examples',
        `${counts[c]} example${counts[c] === 1 ? '' : 's'}`,
        'every class needs examples to train on and to validate with',
      );
    }
  }
  for (let i = 0; i < embeddings.length; i++) {
    const v = embeddings[i]!;
    if (!Number.isFinite(v)) {
      const row = Math.floor(i / dim);
      throw new TrainError(
        'train-input',
        `embeddings[${i}] (example ${row}, class "${names[y[row]!]}", feature ${i - row * dim})`,
        'a finite number',
        String(v),
      );
    }
  }
  return { dim, counts, labels: y, classes: names };
}

/** Class names: at least two, non-empty, well-formed Unicode, distinct after NFC normalisation and trimming. */
export function checkClasses(classes: unknown): string[] {
  if (!Array.isArray(classes))
    throw new TrainError('train-input', 'classes', 'an array of class names', describe(classes));
  if (classes.length < 2) {
    throw new TrainError(
      'train-one-class',
      'classes',
      'at least 2 classes',
      classes.length === 1 ? `one class only ("${String(classes[0])}")` : 'no classes',
      'a classifier needs something to tell apart',
    );
  }
  const seen = new Map<string, number>();
  classes.forEach((name, i) => {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new TrainError('train-class-name', `classes[${i}]`, 'a non-empty string', describe(name));
    }
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name)) {
      throw new TrainError(
        'train-class-name',
        `classes[${i}]`,
        'well-formed Unicode (encodable as UTF-8)',
        JSON.stringify(name),
        'a lone surrogate',
      );
    }
    const key = name.normalize('NFC').trim();
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw new TrainError(
        'train-class-name',
        `classes[${i}]`,
        'a name distinct from the others after NFC normalisation',
        JSON.stringify(name),
        `the same as classes[${prev}] ${JSON.stringify(classes[prev])}`,
      );
    }
    seen.set(key, i);
  });
  return classes as string[];
}

export function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new TrainError('train-option', `option ${name}`, `an integer >= ${min}`, describe(v));
  }
  return v;
}

export function checkNumber(
  name: string,
  v: unknown,
  min: number,
  max: number,
  maxOpen = false,
  minOpen = false,
): number {
  const ok =
    typeof v === 'number' && Number.isFinite(v) && (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max);
  if (!ok) {
    const range = `${minOpen ? '(' : '['}${min}, ${max === Number.POSITIVE_INFINITY ? 'inf' : max}${maxOpen ? ')' : ']'}`;
    throw new TrainError('train-option', `option ${name}`, `a number in ${range}`, describe(v));
  }
  return v;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v))
    return `a ${v.constructor.name} of ${(v as unknown as { length?: number }).length ?? v.byteLength}`;
  return typeof v === 'object' ? `an object (${(v as object).constructor?.name ?? 'Object'})` : typeof v;
}
