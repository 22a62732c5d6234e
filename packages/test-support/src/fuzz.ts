// Fuzzing support for the readers outside core (issue 23): byte mutations of real files, and a property runner
// that reports the seed to replay. core/src/fuzz/harness.ts does the same for core's parsers.
import fc from 'fast-check';

/** Cases per reader: a few hundred in the default test run, FUZZ_RUNS (e.g. 10000) in `pnpm fuzz`. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** The bound every hostile input must meet: answered within 5 s. */
export const MAX_CASE_MS = 5000;

const INTERESTING = [0, 1, 2, 0x0a, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff, -1];

/** One edit of a byte string: set a byte, insert or delete bytes, write an interesting integer, duplicate, cut. */
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
    width: fc.constantFrom(1, 2, 4),
    le: fc.boolean(),
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

const splice = (b: Uint8Array, at: number, remove: number, insert: Uint8Array) => {
  const c = new Uint8Array(b.length - remove + insert.length);
  c.set(b.subarray(0, at));
  c.set(insert, at);
  c.set(b.subarray(at + remove), at + insert.length);
  return c;
};

function apply(b: Uint8Array, e: Edit, focus: number): Uint8Array {
  const at = b.length ? e.at % Math.max(1, Math.min(b.length, focus)) : 0;
  switch (e.kind) {
    case 'set': {
      const c = b.slice();
      if (c.length) c[at] = e.byte;
      return c;
    }
    case 'insert':
      return splice(b, at, 0, e.bytes);
    case 'delete':
      return splice(b, at, Math.min(e.length, b.length - at), new Uint8Array());
    case 'int': {
      const c = b.slice();
      const v = BigInt.asUintN(32, BigInt(e.value));
      for (let i = 0; i < e.width && at + i < c.length; i++)
        c[at + i] = Number((v >> BigInt(8 * (e.le ? i : e.width - 1 - i))) & 0xffn);
      return c;
    }
    case 'dup':
      return splice(b, b.length ? e.to % b.length : 0, 0, b.slice(at, at + e.length));
    case 'truncate':
      return b.slice(0, at);
  }
}

/** Inputs made by editing real, valid files (most cases), or plain random bytes; edits favour the first `focus` bytes. */
export function mutated(seeds: readonly Uint8Array[], focus = 4096): fc.Arbitrary<Uint8Array> {
  const copies = seeds.map((s) => Uint8Array.from(s)); // plain arrays: a Buffer's slice() is a view, not a copy
  const fromSeed = fc
    .record({
      seed: fc.nat({ max: seeds.length - 1 }),
      edits: fc.array(edit, { minLength: 1, maxLength: 6 }),
      wide: fc.boolean(),
    })
    .map(({ seed, edits, wide }) =>
      edits.reduce<Uint8Array>((b, e) => apply(b, e, wide ? Number.POSITIVE_INFINITY : focus), copies[seed]!),
    );
  return fc.oneof({ arbitrary: fromSeed, weight: 9 }, { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 1 });
}

/** What a run saw, printed with FUZZ_RUNS set. */
export interface FuzzStats {
  cases: number;
  accepted: number;
  refused: number;
  slowestMs: number;
  peakRss: number;
}

/**
 * Runs an asynchronous property over `runs` cases: `predicate` returns 'accepted' or 'refused' (it throws on a
 * failure); each case must finish within MAX_CASE_MS. A failure reports the seed to replay (FUZZ_SEED).
 */
export async function checkAsync<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  predicate: (v: T) => Promise<'accepted' | 'refused'>,
  runs = RUNS,
): Promise<FuzzStats> {
  const stats: FuzzStats = { cases: 0, accepted: 0, refused: 0, slowestMs: 0, peakRss: 0 };
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
  const t0 = performance.now();
  const r = await fc.check(
    fc.asyncProperty(arb, async (v) => {
      const start = performance.now();
      stats[await predicate(v)]++;
      const ms = performance.now() - start;
      stats.cases++;
      stats.slowestMs = Math.max(stats.slowestMs, ms);
      if (stats.cases % 64 === 0) stats.peakRss = Math.max(stats.peakRss, process.memoryUsage().rss);
      if (ms > MAX_CASE_MS) throw new Error(`took ${Math.round(ms)} ms (bound ${MAX_CASE_MS} ms)`);
    }),
    { numRuns: runs, ...(seed !== undefined && { seed }) },
  );
  if (r.failed) {
    const why = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
    const c = r.counterexample?.[0];
    const shown =
      c instanceof Uint8Array
        ? `${c.length} bytes: ${Buffer.from(c.subarray(0, 96)).toString('hex')}`
        : JSON.stringify(c)?.slice(0, 600);
    throw new Error(
      `${name}: ${why}\n(replay with FUZZ_SEED=${r.seed}; after ${r.numRuns} cases)\ncounterexample: ${shown}`,
    );
  }
  if (process.env.FUZZ_RUNS)
    console.log(
      `fuzz ${name}: ${stats.cases} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s (${stats.accepted} accepted, ${stats.refused} refused by name), slowest ${stats.slowestMs.toFixed(0)} ms, peak RSS ${(stats.peakRss / 2 ** 20).toFixed(0)} MiB`,
    );
  return stats;
}
