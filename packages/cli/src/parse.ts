import { UsageError, optionError, quote } from './errors.js';

/**
 * The command-line grammar, written out instead of node:util's parseArgs so that every mistake is one line naming
 * the option, the value and what is allowed (parseArgs says "argument is ambiguous" for `--width -1`).
 *  --name value | --name=value   a value option; the value may start with '-' (a negative number is a value)
 *  --flag                        a boolean option; `--flag=x` is a mistake
 *  -o value                      a short alias
 *  --                            everything after is a positional argument
 */
export type OptionKind =
  | { readonly type: 'string'; readonly expects: string; readonly short?: string }
  | { readonly type: 'boolean'; readonly short?: string };

export type OptionSpec = Readonly<Record<string, OptionKind>>;

/** Parsed values, typed from the spec: strings for value options, `true` for flags that were given. */
export type Values<S extends OptionSpec> = {
  -readonly [K in keyof S]?: S[K] extends { type: 'string' } ? string : true;
} & { help?: true };

export interface Parsed<S extends OptionSpec> {
  readonly values: Values<S>;
  readonly positionals: string[];
}

const HELP: OptionSpec = { help: { type: 'boolean', short: 'h' } };

export function parse<S extends OptionSpec>(argv: readonly string[], spec: S, allowPositionals = false): Parsed<S> {
  const all: OptionSpec = { ...spec, ...HELP };
  const values: Record<string, string | true> = {};
  const positionals: string[] = [];
  const positional = (arg: string) => {
    if (!allowPositionals)
      throw optionError(`argument ${quote(arg)}`, 'options only (they start with --)', 'a positional argument');
    positionals.push(arg);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      argv.slice(i + 1).forEach(positional);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const written = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    const name = lookup(all, written);
    const kind = all[name]!;
    let value: string | true;
    if (kind.type === 'boolean') {
      if (written !== arg) throw optionError(written, 'no value (it is a switch)', quote(arg.slice(eq + 1)));
      value = true;
    } else if (written !== arg) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      // `--width --arch v2`: the user forgot the value; a single dash ('-1', '-x.png') is still a value.
      if (next === undefined || next.startsWith('--'))
        throw optionError(written, kind.expects, next === undefined ? 'nothing' : `the option ${quote(next)}`);
      value = next;
      i++;
    }
    const before = values[name];
    if (typeof before === 'string' && typeof value === 'string' && before !== value) {
      throw optionError(`--${name}`, 'one value', `${quote(before)} and ${quote(value)}`);
    }
    values[name] = value;
  }
  return { values: values as Values<S>, positionals };
}

/** The spec's name for `--name` or `-x`; an unknown option suggests the closest known one. */
function lookup(spec: OptionSpec, written: string): string {
  if (written.startsWith('--')) {
    const name = written.slice(2);
    if (Object.hasOwn(spec, name)) return name;
  } else {
    const short = Object.entries(spec).find(([, k]) => k.short !== undefined && `-${k.short}` === written);
    if (short) return short[0];
  }
  const names = Object.keys(spec).map((n) => `--${n}`);
  const best = closest(written.replace(/^-+/, '--'), names);
  const hint = best ? `; did you mean ${best}?` : '; see --help for the options';
  throw new UsageError(`option ${quote(written).slice(1, -1)}: unknown${hint}`);
}

/** The candidate within edit distance 2 (or a third of the word) of `word`, if one is clearly closest. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  let tied = false;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance) [best, bestDistance, tied] = [c, d, false];
    else if (d === bestDistance) tied = true;
  }
  // A tie is no suggestion: 'v9' is as near v1 as v2.
  return bestDistance <= limit && !tied ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1. */
function distance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity;
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
