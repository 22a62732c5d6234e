import type { Cell } from './cell.js';
import { ENGINE_LABEL } from './cell.js';
import { GOALS, type Precision } from './precision.js';
import { quietLine } from './quiet.js';

/** One cell's outcome. `threads` is the count in effect when it ran (the count the cell asked for when it did not). */
export interface Row extends Cell {
  readonly params: number;
  readonly macs: number;
  readonly status: 'ok' | 'skipped' | 'mismatch' | 'failed';
  readonly reason?: string;
  readonly p50?: number;
  readonly p90?: number;
  /** Throughput over the timed window: images timed / wall time of the timed runs (not 1000 / p50). */
  readonly imagesPerSecond?: number;
  /** Wall time of the timed runs, ms (a --precisions row: the sum of its own runs, which alternate with the others). */
  readonly windowMs?: number;
  /** MACs x batch / p50. */
  readonly gmacs?: number;
  /**
   * Achieved GMAC/s over the measured fp32 peak at the same thread count (CPU engines only): the higher of the peaks
   * measured before and after the rows.
   */
  readonly peakShare?: number;
  readonly peakRssMiB?: number | null;
  readonly maxRelDiff?: number;
  /** cpu/cuda: median of (ours - bare run() on the same session) over interleaved pairs, / median bare. */
  readonly overhead?: number;
  /** cpu/cuda: median of the bare run() calls on our session, ms (timed interleaved with ours). */
  readonly bareP50?: number;
  /** cpu/cuda: how many interleaved (ours, bare) pairs the overhead is the median of. */
  readonly pairs?: number;
  /** --precisions: the precision of the graph this row ran (peers and browser engines: fp32, from the graph). */
  readonly precision?: Precision;
  /** --precisions cells: the .onnx file timed, its size on disk, and that size over the fp32 file's. */
  readonly file?: string;
  readonly fileBytes?: number;
  readonly sizeRatio?: number;
  /** --precisions int8 cells on CPU: the int8 kernel path of the CPU that ran them (core's int8Kernels). */
  readonly int8Kernels?: string;
  /** --precisions cells: the fp32 row's p50 over this row's, both from the same alternating rounds. */
  readonly speedup?: number;
  /** --precisions cells: median over rounds of (fp32 latency / this latency) within each round. */
  readonly pairedSpeedup?: number;
  /** --precisions cells: rounds timed (each runs every precision once). */
  readonly rounds?: number;
  /** --precisions cells: SQNR of this row's logits against the fp32 file's on onnxruntime-node CPU, dB. */
  readonly sqnr?: number;
}

/** Throughput's column says how it was measured; JSON written before the timed window was kept holds 1000/p50. */
const IMAGES_HEAD = 'img/s (wall)';
const LEGACY_IMAGES_HEAD = 'img/s (1000/p50)';

const BASE_HEAD = [
  'arch',
  'width',
  'res',
  'params',
  'MACs',
  'engine',
  'threads',
  'batch',
  'p50 ms',
  'p90 ms',
  IMAGES_HEAD,
  'GMAC/s (p50)',
  '% peak',
  'peak RSS',
  'status',
];
/** Columns inserted after 'batch' when the run measured precisions. */
const PRECISION_HEAD = ['precision', 'size MB', '% fp32', 'speedup'];
const LEFT = new Set(['arch', 'engine', 'precision', 'status']);

const hasPrecision = (rows: readonly Row[]) => rows.some((r) => r.precision !== undefined);
/** Rows from JSON written before the timed window was recorded: their img/s is 1000/p50. */
const legacy = (rows: readonly Row[]) => rows.some((r) => r.imagesPerSecond !== undefined && r.windowMs === undefined);
function head(rows: readonly Row[]): string[] {
  const base = BASE_HEAD.map((h) => (h === IMAGES_HEAD && legacy(rows) ? LEGACY_IMAGES_HEAD : h));
  if (!hasPrecision(rows)) return base;
  const at = base.indexOf('batch') + 1;
  return [...base.slice(0, at), ...PRECISION_HEAD, ...base.slice(at)];
}

function cells(r: Row, precision: boolean): string[] {
  const ok = r.status === 'ok' || r.status === 'mismatch';
  const f = (v: number | undefined, d: number) => (ok && v !== undefined ? v.toFixed(d) : '');
  const base = baseCells(r, ok, f);
  if (!precision) return base;
  const at = BASE_HEAD.indexOf('batch') + 1;
  const p = [
    r.precision ?? '',
    r.fileBytes !== undefined ? (r.fileBytes / 1e6).toFixed(2) : '',
    r.sizeRatio !== undefined ? `${(100 * r.sizeRatio).toFixed(1)}%` : '',
    ok && r.speedup !== undefined ? `${r.speedup.toFixed(2)}x` : '',
  ];
  return [...base.slice(0, at), ...p, ...base.slice(at)];
}

function baseCells(r: Row, ok: boolean, f: (v: number | undefined, d: number) => string): string[] {
  return [
    r.arch,
    String(r.width),
    String(r.resolution),
    `${(r.params / 1e6).toFixed(2)}M`,
    `${(r.macs / 1e6).toFixed(0)}M`,
    r.engine,
    String(r.threads),
    String(r.batch),
    f(r.p50, 2),
    f(r.p90, 2),
    f(r.imagesPerSecond, 1),
    f(r.gmacs, 1),
    ok && r.peakShare !== undefined ? `${(100 * r.peakShare).toFixed(1)}%` : '',
    ok && r.peakRssMiB ? `${r.peakRssMiB} MiB` : '',
    r.status === 'ok' ? 'ok' : `${r.status}${r.reason ? `: ${r.reason}` : ''}`,
  ];
}

export function table(rows: readonly Row[]): string {
  const HEAD = head(rows);
  const all = [HEAD, ...rows.map((r) => cells(r, hasPrecision(rows)))];
  const w = HEAD.map((_, i) => Math.max(...all.map((r) => (i === HEAD.length - 1 ? 0 : r[i]!.length))));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === HEAD.length - 1 ? c : !LEFT.has(HEAD[i]!) ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Ratios that answer the questions: our wrapper vs bare onnxruntime, onnxruntime-web vs TensorFlow.js. */
export function ratios(rows: readonly Row[]): string[] {
  const out: string[] = [];
  const key = (r: Row) => `${r.arch}/${r.width}/${r.resolution}/${r.batch}/${r.threads}`;
  const find = (engine: string, k: string): Row | undefined =>
    rows.find((r) => r.engine === engine && r.status === 'ok' && key(r) === k);
  for (const r of rows.filter((x) => x.status === 'ok')) {
    const k = key(r);
    if (r.engine === 'cpu' && r.overhead !== undefined) {
      const at = `${r.arch} ${r.width}/${r.resolution} b${r.batch} x${r.threads}`;
      out.push(
        `${at}: ${overheadWords(r.overhead)}: median of ${r.pairs} interleaved pairs of (our session.logits() - a bare run() on the same onnxruntime session), over the bare run's median ${r.bareP50!.toFixed(2)} ms`,
      );
      const bare = find('ort', k);
      if (bare)
        out.push(
          `${at}: p50 ${r.p50!.toFixed(2)} ms ours (cpu row) vs ${bare.p50!.toFixed(2)} ms for the ort peer, a bare session made and timed in its own process (ours / peer = ${(r.p50! / bare.p50!).toFixed(2)}); separate processes, so this ratio carries their run-to-run noise, the line above does not`,
        );
    }
    if (r.speedup !== undefined && r.precision !== 'fp32') out.push(precisionLine(r));
    if (r.engine === 'wasm' && (r.precision ?? 'fp32') === 'fp32') {
      for (const peer of ['tfjs-wasm', 'tfjs-cpu'] as const) {
        const t = rows.find(
          (x) =>
            x.engine === peer &&
            x.status === 'ok' &&
            `${x.arch}/${x.width}/${x.resolution}/${x.batch}` === `${r.arch}/${r.width}/${r.resolution}/${r.batch}`,
        );
        if (t)
          out.push(
            `${r.arch} ${r.width}/${r.resolution} b${r.batch}: onnxruntime-web wasm with ${r.threads} thread(s) is ${speedWords(t.p50! / r.p50!, peer)} (1 thread: tfjs runs WASM threads only in browsers)`,
          );
      }
    }
  }
  return out;
}

/**
 * "1.52x faster than X", "1.37x slower than X" or "as fast as X (1.00x)": a ratio under 1 written "0.73x as fast"
 * reads as a speedup at a glance. `ratio` is the other's time over this one's.
 */
export function speedWords(ratio: number, than: string): string {
  if (ratio.toFixed(2) === '1.00') return `as fast as ${than} (1.00x)`;
  return ratio > 1 ? `${ratio.toFixed(2)}x faster than ${than}` : `${(1 / ratio).toFixed(2)}x slower than ${than}`;
}

/**
 * The wrapper's paired overhead. It only adds work, so a negative median is the pairs' noise: say "faster" with
 * that, rather than "costs -1.9%".
 */
export function overheadWords(overhead: number): string {
  const pct = `${Math.abs(100 * overhead).toFixed(1)}%`;
  if (pct === '0.0%') return 'our wrapper costs 0.0% over onnxruntime';
  return overhead > 0
    ? `our wrapper costs ${pct} over onnxruntime`
    : `our wrapper measured ${pct} faster than onnxruntime (it only adds work: this is the noise between the pairs)`;
}

/** A goal beside the measured value, both with their decimals: "27.3%, goal <= 27.0%: NOT met", not "<= 27%". */
const goal = (what: string, value: string, rule: string, met: boolean) =>
  `${what} ${value}, goal ${rule}: ${met ? 'met' : 'NOT met'}`;

/** A precision against fp32 on the same engine: one speedup (the p50s'), with the issue's goals where they apply. */
export function precisionLine(r: Row): string {
  const p = r.precision!;
  const at = `${r.arch} ${r.width}/${r.resolution} b${r.batch} ${r.engine} x${r.threads}`;
  const fp32 = r.p50! * r.speedup!;
  const sizeGoal = GOALS.size[p];
  const goals = [
    goal('size', `${(100 * r.sizeRatio!).toFixed(1)}%`, `<= ${(100 * sizeGoal).toFixed(1)}%`, r.sizeRatio! <= sizeGoal),
  ];
  const path = r.int8Kernels;
  const saturating = path === 'avx2' || path === 'avx512';
  const speedGoal =
    path && p === 'int8' ? GOALS.int8Speedup[saturating ? 'vpmaddubsw' : 'accumulating'][r.arch] : undefined;
  if (p === 'int8' && r.engine === 'cpu' && r.threads === 2 && r.batch === 1 && speedGoal !== undefined)
    goals.unshift(
      goal(
        `speedup on CPU 2 threads batch 1 (${path} int8 kernels)`,
        `${r.speedup!.toFixed(2)}x`,
        `>= ${speedGoal.toFixed(2)}x`,
        r.speedup! >= speedGoal,
      ),
    );
  const kernels = path && p === 'int8' ? ` on ${path} int8 kernels` : '';
  return `${at}: ${p}${kernels} is ${speedWords(r.speedup!, 'fp32')} (p50 ${r.p50!.toFixed(2)} vs ${fp32.toFixed(2)} ms, ${r.rounds} alternating rounds), file ${(100 * r.sizeRatio!).toFixed(1)}% of fp32 (${(r.fileBytes! / 1e6).toFixed(2)} of ${(r.fileBytes! / r.sizeRatio! / 1e6).toFixed(2)} MB), SQNR ${r.sqnr!.toFixed(1)} dB against fp32's logits; goals: ${goals.join('; ')}`;
}

export function markdown(
  rows: readonly Row[],
  machineLine: string,
  options: string,
  warnings: readonly string[] = [],
): string {
  const HEAD = head(rows);
  const all = [HEAD, ...rows.map((r) => cells(r, hasPrecision(rows)))];
  return [
    `Machine: ${machineLine}.`,
    '',
    quietLine(warnings),
    '',
    `Options: ${options}. Engines: ${[...new Set(rows.map((r) => r.engine))].map((e) => `\`${e}\` = ${ENGINE_LABEL[e]}`).join('; ')}.`,
    `${legacy(rows) ? `${LEGACY_IMAGES_HEAD} = 1000 x batch / p50 (written before the timed window was recorded)` : `${IMAGES_HEAD} = images timed / wall time of the timed runs (throughput over the window, not 1000/p50)`}; GMAC/s (p50) = MACs x batch / p50 (1 MAC = 2 FLOP); % peak = GMAC/s / the measured fp32 peak at the row's thread count (best run of a square fp32 Gemm through onnxruntime-node, the higher of the peaks measured before and after the rows, see docs/benchmarks.md); blank for GPU engines.`,
    ...(hasPrecision(rows)
      ? [
          `precision: the graph's precision; size MB = the .onnx file's bytes / 1e6; % fp32 = that size over the fp32 file's; speedup = the fp32 row's p50 / this row's, same engine and threads, the precisions timed alternately in one process on the same input (the JSON's pairedSpeedup is the median of the per-round ratios); img/s (wall) of a precision row = its images / the sum of its own runs; % peak on fp32 rows only. Engines' logits are checked against onnxruntime-node CPU's on the same file (fp32, fp16: within 1e-3 of their scale); int8 rows by their SQNR against fp32's logits instead, at most 3 dB below CPU's int8 (engines' int8 kernels round differently, and the differences grow through an untrained model).`,
        ]
      : []),
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...all.slice(1).map((r) => `| ${r.join(' | ')} |`),
    '',
    ...ratios(rows).map((l) => `- ${l}`),
    '',
  ].join('\n');
}
