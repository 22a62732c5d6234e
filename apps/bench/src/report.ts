import type { Cell } from './cell.js';
import { ENGINE_LABEL } from './cell.js';
import { GOALS, type Precision } from './precision.js';

/** One cell's outcome. `threads` is the count in effect when it ran (the count the cell asked for when it did not). */
export interface Row extends Cell {
  readonly params: number;
  readonly macs: number;
  readonly status: 'ok' | 'skipped' | 'mismatch' | 'failed';
  readonly reason?: string;
  readonly p50?: number;
  readonly p90?: number;
  readonly imagesPerSecond?: number;
  readonly gmacs?: number;
  /** Achieved GMAC/s over the measured fp32 peak at the same thread count (CPU engines only). */
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
  /** --precisions cells: the fp32 row's p50 over this row's, both from the same alternating rounds. */
  readonly speedup?: number;
  /** --precisions cells: median over rounds of (fp32 latency / this latency) within each round. */
  readonly pairedSpeedup?: number;
  /** --precisions cells: rounds timed (each runs every precision once). */
  readonly rounds?: number;
  /** --precisions cells: SQNR of this row's logits against the fp32 file's on onnxruntime-node CPU, dB. */
  readonly sqnr?: number;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

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
  'img/s',
  'GMAC/s',
  '% peak',
  'peak RSS',
  'status',
];
/** Columns inserted after 'batch' when the run measured precisions. */
const PRECISION_HEAD = ['precision', 'size MB', '% fp32', 'speedup'];
const LEFT = new Set(['arch', 'engine', 'precision', 'status']);

const hasPrecision = (rows: readonly Row[]) => rows.some((r) => r.precision !== undefined);
function head(rows: readonly Row[]): string[] {
  if (!hasPrecision(rows)) return BASE_HEAD;
  const at = BASE_HEAD.indexOf('batch') + 1;
  return [...BASE_HEAD.slice(0, at), ...PRECISION_HEAD, ...BASE_HEAD.slice(at)];
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
        `${at}: our wrapper costs ${(100 * r.overhead).toFixed(1)}% over onnxruntime: median of ${r.pairs} interleaved pairs of (our session.logits() - a bare run() on the same onnxruntime session), over the bare run's median ${r.bareP50!.toFixed(2)} ms`,
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
            `${r.arch} ${r.width}/${r.resolution} b${r.batch}: onnxruntime-web wasm with ${r.threads} thread(s) is ${(t.p50! / r.p50!).toFixed(2)}x as fast as ${peer} (1 thread: tfjs runs WASM threads only in browsers)`,
          );
      }
    }
  }
  return out;
}

/** A precision against fp32 on the same engine, with the issue's goals where they apply. */
function precisionLine(r: Row): string {
  const p = r.precision!;
  const at = `${r.arch} ${r.width}/${r.resolution} b${r.batch} ${r.engine} x${r.threads}`;
  const fp32 = r.p50! * r.speedup!;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const goals = [`size <= ${100 * GOALS.size[p]}%: ${met(r.sizeRatio! <= GOALS.size[p])}`];
  if (
    p === 'int8' &&
    r.engine === 'cpu' &&
    r.threads === 2 &&
    r.batch === 1 &&
    (GOALS.speedArchs as readonly string[]).includes(r.arch)
  )
    goals.unshift(`>= ${GOALS.int8Speedup}x on CPU 2 threads batch 1: ${met(r.speedup! >= GOALS.int8Speedup)}`);
  return `${at}: ${p} is ${r.speedup!.toFixed(2)}x as fast as fp32 (p50 ${r.p50!.toFixed(2)} vs ${fp32.toFixed(2)} ms; median of ${r.rounds} per-round ratios ${r.pairedSpeedup!.toFixed(2)}x), file ${(100 * r.sizeRatio!).toFixed(1)}% of fp32 (${(r.fileBytes! / 1e6).toFixed(2)} of ${(r.fileBytes! / r.sizeRatio! / 1e6).toFixed(2)} MB), SQNR ${r.sqnr!.toFixed(1)} dB against fp32's logits; goals: ${goals.join(', ')}`;
}

export function markdown(rows: readonly Row[], machineLine: string, options: string): string {
  const HEAD = head(rows);
  const all = [HEAD, ...rows.map((r) => cells(r, hasPrecision(rows)))];
  return [
    `Machine: ${machineLine}.`,
    '',
    `Options: ${options}. Engines: ${[...new Set(rows.map((r) => r.engine))].map((e) => `\`${e}\` = ${ENGINE_LABEL[e]}`).join('; ')}.`,
    `GMAC/s = MACs x batch / p50 (1 MAC = 2 FLOP); % peak = GMAC/s / the measured fp32 peak at the row's thread count (best run of a square fp32 Gemm through onnxruntime-node, see docs/benchmarks.md); blank for GPU engines.`,
    ...(hasPrecision(rows)
      ? [
          `precision: the graph's precision; size MB = the .onnx file's bytes / 1e6; % fp32 = that size over the fp32 file's; speedup = the fp32 row's p50 / this row's, same engine and threads, the precisions timed alternately in one process on the same input; % peak on fp32 rows only. Engines' logits are checked against onnxruntime-node CPU's on the same file (fp32, fp16: within 1e-3 of their scale); int8 rows by their SQNR against fp32's logits instead, at most 3 dB below CPU's int8 (engines' int8 kernels round differently, and the differences grow through an untrained model).`,
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

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];

/** Latency against MACs, log-log, one series per engine (and thread count): does latency follow MACs? */
export function svg(rows: readonly Row[], title: string): string {
  const ok = rows.filter((r) => r.status === 'ok' && r.p50);
  const W = 760;
  const H = 460;
  const L = 70;
  const B = 60;
  const T = 40;
  const R = 230;
  const lx = (v: number) => Math.log10(v);
  const xs = ok.map((r) => lx((r.macs * r.batch) / 1e6));
  const ys = ok.map((r) => lx(r.p50!));
  const [x0, x1] = [Math.floor(Math.min(...xs, 1)), Math.ceil(Math.max(...xs, 2))];
  const [y0, y1] = [Math.floor(Math.min(...ys, 0)), Math.ceil(Math.max(...ys, 1))];
  const px = (v: number) => L + ((v - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (v: number) => H - B - ((v - y0) / (y1 - y0 || 1)) * (H - B - T);
  const name = (r: Row) => `${r.engine} x${r.threads}${r.precision ? ` ${r.precision}` : ''}`;
  const series = [...new Set(ok.map(name))];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${L}" y="22" font-size="14" font-weight="600">${title}</text>`,
  ];
  for (let d = x0; d <= x1; d++)
    parts.push(
      `<line x1="${px(d)}" x2="${px(d)}" y1="${T}" y2="${H - B}" stroke="#e5e7eb"/><text x="${px(d)}" y="${H - B + 16}" text-anchor="middle">${10 ** d}</text>`,
    );
  for (let d = y0; d <= y1; d++)
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${py(d)}" y2="${py(d)}" stroke="#e5e7eb"/><text x="${L - 6}" y="${py(d) + 4}" text-anchor="end">${10 ** d}</text>`,
    );
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 18}" text-anchor="middle">M multiply-accumulates per run (MACs x batch, log)</text>`,
  );
  parts.push(
    `<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">p50 latency, ms (log)</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = ok.filter((r) => name(r) === s).sort((a, b) => a.macs * a.batch - b.macs * b.batch);
    const coords = pts.map((r) => `${px(lx((r.macs * r.batch) / 1e6)).toFixed(1)},${py(lx(r.p50!)).toFixed(1)}`);
    if (coords.length > 1)
      parts.push(
        `<polyline points="${coords.join(' ')}" fill="none" stroke="${color}" stroke-width="1.5" opacity="0.6"/>`,
      );
    pts.forEach((r, k) => {
      parts.push(
        `<circle cx="${coords[k]!.split(',')[0]}" cy="${coords[k]!.split(',')[1]}" r="4" fill="${color}"><title>${r.arch} ${r.width}/${r.resolution} b${r.batch} ${name(r)}: ${r.p50!.toFixed(2)} ms</title></circle>`,
      );
    });
    parts.push(
      `<rect x="${W - R + 16}" y="${T + i * 20}" width="12" height="12" fill="${color}"/><text x="${W - R + 34}" y="${T + i * 20 + 10}">${s}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
