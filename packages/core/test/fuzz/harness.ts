import fc from 'fast-check';
import { MobileNetError } from '../../src/ir/errors.js';

/** Cases per parser: a few hundred in the default test run, FUZZ_RUNS (e.g. 10000) in `pnpm fuzz`. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** The bound every hostile input must meet (the goal is 5 s; one case here must stay far below). */
export const MAX_CASE_MS = 5000;

export interface FuzzStats {
  cases: number;
  slowestMs: number;
  peakRss: number;
  ok: number;
  refused: number;
}
export const newStats = (): FuzzStats => ({ cases: 0, slowestMs: 0, peakRss: 0, ok: 0, refused: 0 });

/**
 * The property every parser must keep: it returns, or throws one of our errors whose message names the file,
 * within MAX_CASE_MS; never another exception, and never a bug merely wrapped by a reader's last-resort guard.
 */
export function ours(stats: FuzzStats, source: string, run: () => unknown): void {
  const t0 = performance.now();
  try {
    run();
    stats.ok++;
  } catch (e) {
    if (!(e instanceof MobileNetError))
      throw new Error(`not our error: ${(e as Error)?.name}: ${(e as Error)?.message?.slice(0, 300)}`);
    if (!e.message.includes(source))
      throw new Error(`error does not name the file '${source}': ${e.message.slice(0, 300)}`);
    if (e.detail?.startsWith('unexpected '))
      throw new Error(`a bug reached the last-resort guard: ${e.message.slice(0, 300)}`);
    if (e.message.length > 2000) throw new Error(`an error message of ${e.message.length} characters`);
    stats.refused++;
  }
  const ms = performance.now() - t0;
  stats.cases++;
  stats.slowestMs = Math.max(stats.slowestMs, ms);
  if (stats.cases % 64 === 0) stats.peakRss = Math.max(stats.peakRss, process.memoryUsage().rss);
  if (ms > MAX_CASE_MS) throw new Error(`took ${Math.round(ms)} ms (bound ${MAX_CASE_MS} ms)`);
}

const INTERESTING = [
  0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, -1, -2, -5,
];

/** One edit of a byte string: set, insert, delete, overwrite with an interesting 32-bit value, duplicate, truncate. */
const edit = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('int' as const),
    at: fc.nat(),
    value: fc.constantFrom(...INTERESTING),
    width: fc.constantFrom(1, 2, 4, 8),
  }),
  fc.record({
    kind: fc.constant('dup' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 256 }),
    to: fc.nat(),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function apply(b: Uint8Array, e: Edit, focus: number): Uint8Array {
  // Edits land in the first `focus` bytes most of the time: headers and pickles, not weight data.
  const span = Math.max(1, Math.min(b.length, focus));
  const at = b.length ? e.at % span : 0;
  switch (e.kind) {
    case 'set': {
      const c = b.slice();
      if (c.length) c[at] = e.byte;
      return c;
    }
    case 'insert': {
      const c = new Uint8Array(b.length + e.bytes.length);
      c.set(b.subarray(0, at));
      c.set(e.bytes, at);
      c.set(b.subarray(at), at + e.bytes.length);
      return c;
    }
    case 'delete': {
      const end = Math.min(b.length, at + e.length);
      const c = new Uint8Array(b.length - (end - at));
      c.set(b.subarray(0, at));
      c.set(b.subarray(end), at);
      return c;
    }
    case 'int': {
      const c = b.slice();
      const v = BigInt.asUintN(64, BigInt(e.value));
      for (let i = 0; i < e.width && at + i < c.length; i++) c[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
      return c;
    }
    case 'dup': {
      const chunk = b.slice(at, at + e.length);
      const to = b.length ? e.to % b.length : 0;
      const c = new Uint8Array(b.length + chunk.length);
      c.set(b.subarray(0, to));
      c.set(chunk, to);
      c.set(b.subarray(to), to + chunk.length);
      return c;
    }
    case 'truncate':
      return b.slice(0, at);
  }
}

/** Inputs made by editing real, valid files (most cases), or plain random bytes. */
export function mutated(seeds: readonly Uint8Array[], focus = 4096): fc.Arbitrary<Uint8Array> {
  const fromSeed = fc
    .record({
      seed: fc.nat({ max: seeds.length - 1 }),
      edits: fc.array(edit, { minLength: 1, maxLength: 6 }),
      wide: fc.boolean(),
    })
    .map(({ seed, edits, wide }) => edits.reduce((b, e) => apply(b, e, wide ? Infinity : focus), seeds[seed]!));
  return fc.oneof({ arbitrary: fromSeed, weight: 9 }, { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 1 });
}

export function report(name: string, s: FuzzStats, ms: number): void {
  if (process.env.FUZZ_RUNS) {
    console.log(
      `fuzz ${name}: ${s.cases} cases in ${(ms / 1000).toFixed(1)} s (${s.ok} read, ${s.refused} refused by name), slowest ${s.slowestMs.toFixed(0)} ms, peak RSS ${(s.peakRss / 2 ** 20).toFixed(0)} MiB`,
    );
  }
}

const brief = (v: unknown): string => {
  if (v instanceof Uint8Array)
    return `${v.length} bytes: ${Buffer.from(v.subarray(0, 96)).toString('hex')}${v.length > 96 ? '...' : ''}`;
  const s = JSON.stringify(v, (_, x) =>
    typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `<${x.length} bytes>` : x,
  );
  return s.length > 600 ? `${s.slice(0, 600)}...` : s;
};

/** fc.assert with a short report: the failure, the seed to replay it, and the start of the counterexample. */
export function check<T>(arb: fc.Arbitrary<T>, predicate: (v: T) => void, runs = RUNS): void {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
  const r = fc.check(fc.property(arb, predicate), { numRuns: runs, ...(seed !== undefined && { seed }) });
  if (r.failed) {
    const why = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
    throw new Error(
      `${why}\n(replay with FUZZ_SEED=${r.seed}; after ${r.numRuns} cases)\ncounterexample: ${brief(r.counterexample?.[0])}`,
    );
  }
}
