// `pnpm bench`: latency of every MobileNet on each backend of this machine, validated against onnxruntime-node
// CPU before any time is trusted, with peers (bare onnxruntime, TensorFlow.js) measured on the same weights.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { MobileNetError, analyze, buildModel, fanInFill } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';
import { type Cell, type CellResult, type Engine, fixedInput, modelOptions } from './cell.js';
import { type BrowserRunner, browserUnavailable, startBrowser } from './browser.js';
import { describeMachine, machine } from './machine.js';
import { outputPaths, render, writeOutputs } from './output.js';
import { PEAK_SIZES, type Peak, describePeak, measurePeak } from './peak.js';
import { bestPeaks, quietLine, runWarnings } from './quiet.js';
import { type Row, ratios, table } from './report.js';
import { percentile } from './shared/stats.js';
import { CALIBRATION, PRECISION_ENGINES, type Precision } from './precision.js';
import { type PrecisionSet, calibrationFolder, stem, writePrecisions } from './precision-files.js';
import { type PrecisionRefs, precisionRows, timedRow, withPeakShares } from './rows.js';
import { HELP, type Options, Usage, parse } from './args.js';

/** The cells of the matrix, in run order. Peers that ignore threads (tfjs in Node) run once per model. */
function matrix(o: Options): Cell[] {
  const cells: Cell[] = [];
  for (const arch of o.archs)
    for (const width of o.widths)
      for (const resolution of o.resolutions)
        for (const batch of o.batches) {
          const base = { arch, width, resolution, batch, runs: o.runs, warmup: o.warmup };
          for (const engine of [...o.backends, ...o.peers] as Engine[]) {
            const threads = engine.startsWith('tfjs') ? [1] : o.threads;
            for (const t of threads) cells.push({ ...base, engine, threads: t });
          }
        }
  return cells;
}

function runWorker(cell: Cell): Promise<WorkerResult> {
  const worker = join(import.meta.dirname, 'worker.ts');
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', import.meta.resolve('tsx'), worker, JSON.stringify(cell)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((res) =>
    child.on('close', () => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        res(JSON.parse(line));
      } catch {
        res({
          error:
            err
              .trim()
              .split('\n')
              .find((l) => /Error/.test(l)) ??
            err.trim().split('\n').pop() ??
            'worker crashed',
        } as WorkerResult);
      }
    }),
  );
}

const UNAVAILABLE =
  /unavailable|could not start|not in .*onnxruntime|no WebGPU|navigator\.gpu|expected a backend that works here/;

/** Where the CLI writes; the tests pass their own to check usage errors without starting a process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
}
const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
};

/** Runs the benchmark; returns the exit code (0 ok, 1 a cell failed or disagreed with CPU, 2 usage error). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const o = parseOrExplain(argv, io);
  if (typeof o === 'number') return o;
  if (o.help) return (io.out(HELP), 0);
  if (o.render) {
    for (const line of render(o.render, o)) io.err(`${line}\n`);
    return 0;
  }
  const run: RunStart = { date: new Date().toISOString(), machine: machine(), loadStart: os.loadavg() };
  const cells = matrix(o);
  // The precision files first: calibration and writing do not run between timed cells, and a bad folder stops here.
  const precision = await precisionFiles(cells, o, io);
  if (!precision) return 1;
  const peaksBefore = await measurePeaks(cells, o.smoke);
  io.err(`machine: ${describeMachine(run.machine)}; measured fp32 peak: ${peaksBefore.map(describePeak).join(', ')}\n`);
  const rows = await runCells(cells, o, precision.refs, io);
  // The peak again after the rows: a peak that moved says the machine's speed did too; shares use the higher.
  const peaksAfter = await measurePeaks(cells, o.smoke);
  return finish({ ...run, cells, options: o, precision, peaksBefore, peaksAfter, rows }, io);
}

/** The options, or the exit code after a usage error was printed (2); other errors are thrown. */
function parseOrExplain(argv: string[], io: Io): Options | number {
  try {
    return parse(argv);
  } catch (e) {
    if (
      e instanceof Usage ||
      e instanceof MobileNetError ||
      (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.err(`bench: ${(e as Error).message.split('\n')[0]}\n`);
      return 2;
    }
    throw e;
  }
}

/** What a run records when it starts. */
interface RunStart {
  readonly date: string;
  readonly machine: ReturnType<typeof machine>;
  readonly loadStart: number[];
}

type PrecisionRef = PrecisionRefs & { set: PrecisionSet };

/** --precisions: each model's files and CPU logits, by modelKey; undefined after printing why they could not be made. */
async function precisionFiles(
  cells: readonly Cell[],
  o: Options,
  io: Io,
): Promise<{ refs: Map<string, PrecisionRef>; calibration: string | undefined } | undefined> {
  const refs = new Map<string, PrecisionRef>();
  let calibration: string | undefined;
  try {
    if (o.precisions?.includes('int8')) calibration = calibrationFolder(o.calibrate, io.err);
    for (const cell of cells)
      if (o.precisions && PRECISION_ENGINES.has(cell.engine) && !refs.has(modelKey(cell)))
        refs.set(modelKey(cell), await precisionReference(cell, o.precisions, o.modelDir, calibration, io));
  } catch (e) {
    io.err(`bench: --precisions: ${(e as Error).message.split('\n')[0]}\n`);
    return undefined;
  }
  return { refs, calibration };
}

/** onnxruntime-node CPU's fp32 logits for the fixed input (first image), and the model's size: what a cell must match. */
interface Reference {
  readonly logits: Float32Array;
  readonly params: number;
  readonly macs: number;
}

async function fp32Reference(cell: Cell): Promise<Reference> {
  const model = buildModel({ ...modelOptions(cell), weights: fanInFill(0) });
  const s = await createSession(model);
  const logits = await s.logits(fixedInput(cell.batch, cell.resolution), cell.batch);
  await s.release();
  const a = analyze(model.graph);
  return { logits: logits.subarray(0, logits.length / cell.batch), params: a.params, macs: a.macs };
}

type WorkerResult = CellResult & { error?: string };

/** Runs every cell in order, printing progress; one row per cell (per precision with --precisions). */
async function runCells(
  cells: readonly Cell[],
  o: Options,
  precisionRefs: ReadonlyMap<string, PrecisionRef>,
  io: Io,
): Promise<Row[]> {
  const refs = new Map<string, Reference>();
  const browser = browserCells();
  const rows: Row[] = [];
  const started = performance.now();
  for (const [i, cell] of cells.entries()) {
    const key = modelKey(cell);
    if (!refs.has(key)) refs.set(key, await fp32Reference(cell));
    const ref = refs.get(key)!;
    const pref = PRECISION_ENGINES.has(cell.engine) ? precisionRefs.get(key) : undefined;
    const label = `[${i + 1}/${cells.length}] ${cell.arch} ${cell.width}/${cell.resolution} b${cell.batch} ${cell.engine} x${cell.threads}`;
    const elapsed = ((performance.now() - started) / 1000).toFixed(0);
    io.err(io.isTTY ? `\r${progress(i, cells.length)} ${elapsed}s ${label}\x1b[K` : `${label}\n`);
    const r = await runCell(cell, pref, o, browser);
    const base: Row = {
      ...cell,
      params: ref.params,
      macs: ref.macs,
      status: 'skipped',
      ...(o.precisions && { precision: 'fp32' as const }),
    };
    rows.push(...rowsOf(base, ref, r, pref));
  }
  await browser.close();
  if (io.isTTY)
    io.err(`\r${progress(cells.length, cells.length)} ${((performance.now() - started) / 1000).toFixed(0)}s\x1b[K\n`);
  return rows;
}

/** The browser cells' Chromium, started by the first cell that needs it; `skip` says why none can run here. */
function browserCells(): { skip: string | null; start(): Promise<BrowserRunner>; close(): Promise<void> } {
  let browser: BrowserRunner | undefined;
  return {
    skip: browserUnavailable(),
    start: async () => (browser ??= await startBrowser()),
    close: async () => void (await browser?.close()),
  };
}

/** One cell's result: in Chromium for the browser engines, else in a worker process; `skip` when it cannot run. */
async function runCell(
  cell: Cell,
  pref: PrecisionRef | undefined,
  o: Options,
  browser: ReturnType<typeof browserCells>,
): Promise<WorkerResult | { skip: string }> {
  if (cell.engine === 'webgpu' || cell.engine === 'wasm-browser') {
    if (browser.skip) return { skip: browser.skip };
    try {
      return await (await browser.start()).run(cell);
    } catch (e) {
      return { error: (e as Error).message.split('\n')[0]! } as WorkerResult;
    }
  }
  if (!pref) return runWorker(cell);
  const files = pref.set.files
    .filter((f) => o.precisions!.includes(f.precision))
    .map(({ precision, path }) => ({ precision, path }));
  return runWorker({ ...cell, files });
}

/** A cell's rows: skipped or failed, one per precision, or one timed row with the wrapper's overhead. */
function rowsOf(base: Row, ref: Reference, r: WorkerResult | { skip: string }, pref: PrecisionRef | undefined): Row[] {
  if ('skip' in r) return [{ ...base, status: 'skipped', reason: r.skip }];
  if (r.error) return [{ ...base, status: UNAVAILABLE.test(r.error) ? 'skipped' : 'failed', reason: r.error }];
  if (pref) return precisionRows(base, r, pref);
  const row = timedRow(base, ref.logits, r);
  if (row.p50 === undefined || !r.bareLatencies?.length) return [row];
  // Paired: each of ours is timed next to a bare run, so drift and spinning cancel out of the differences.
  const bareP50 = percentile(r.bareLatencies, 0.5);
  const overhead =
    percentile(
      r.oursInterleaved!.map((v, k) => v - r.bareLatencies![k]!),
      0.5,
    ) / bareP50;
  return [{ ...row, overhead, bareP50, pairs: r.bareLatencies.length }];
}

interface Finished extends RunStart {
  readonly cells: readonly Cell[];
  readonly options: Options;
  readonly precision: { refs: ReadonlyMap<string, PrecisionRef>; calibration: string | undefined };
  readonly peaksBefore: Peak[];
  readonly peaksAfter: Peak[];
  readonly rows: Row[];
}

/** Prints the table, ratios and the run's conditions, writes the outputs; the exit code (1 when a row is bad). */
function finish(f: Finished, io: Io): number {
  const o = f.options;
  const m = f.machine;
  const loadAverage = { start: f.loadStart, end: os.loadavg() };
  const peaks = bestPeaks(f.peaksBefore, f.peaksAfter);
  const shared = withPeakShares(f.rows, peaks, CPU_ENGINES);
  const warnings = runWarnings({
    cores: m.cores,
    load: loadAverage,
    threads: Math.max(...f.cells.map((c) => c.threads)),
    peaksBefore: f.peaksBefore,
    peaksAfter: f.peaksAfter,
  });
  const machineLine = `${describeMachine(m)}; measured fp32 peak: ${peaks.map(describePeak).join(', ')}; before the rows ${f.peaksBefore.map(gmacsAt).join(', ')}, after ${f.peaksAfter.map(gmacsAt).join(', ')}`;
  const opts = optionsLine(o, f.precision, loadAverage, m.cores);
  io.out(
    `\n${table(shared)}\n\n${ratios(shared).join('\n')}\n\nMachine: ${machineLine}\n${opts}\n${quietLine(warnings)}\n`,
  );
  for (const w of warnings) io.err(`bench: not a quiet run: ${w}\n`);
  const results = {
    date: f.date,
    machine: m,
    peaks,
    peaksBefore: f.peaksBefore,
    peaksAfter: f.peaksAfter,
    loadAverage,
    warnings,
    machineLine,
    optionsLine: opts,
    options: o,
    rows: shared,
  };
  for (const line of writeOutputs(results, outputPaths(o))) io.err(`${line}\n`);
  const bad = shared.filter((r) => r.status === 'mismatch' || r.status === 'failed');
  for (const b of bad) io.err(`bench: ${b.arch} ${b.engine}: ${b.status}: ${b.reason}\n`);
  return bad.length ? 1 : 0;
}

/** How the run was made: runs, weights, input, spinning, the precisions' files and the load average. */
function optionsLine(
  o: Options,
  precision: Finished['precision'],
  loadAverage: { start: number[]; end: number[] },
  cores: number,
): string {
  const loadLine = `load average (1 min) ${loadAverage.start[0]!.toFixed(2)} at the start, ${loadAverage.end[0]!.toFixed(2)} at the end, on ${cores} cores`;
  const images = [...precision.refs.values()].find((p) => p.set.images)?.set.images;
  const precisionOpts = o.precisions
    ? `; --precisions ${o.precisions.join(',')}: ${PRECISION_ENGINES_TEXT}${images ? `; int8 calibrated on ${images} images from ${precision.calibration} (${CALIBRATION.method} ${CALIBRATION.percentile})` : ''}; files in ${o.modelDir}`
    : '';
  return `runs ${o.runs} after ${o.warmup} warm-up, seeded weights (fan-in init; torchvision convention, v4 timm's), fixed input, onnxruntime default spinning${precisionOpts}; ${loadLine}`;
}

const modelKey = (c: Cell) => `${c.arch}/${c.width}/${c.resolution}/${c.batch}`;

const PRECISION_ENGINES_TEXT =
  'cpu/cuda/wasm rows time every precision in one process, alternately on the same input (the order rotating each round), onnxruntime-node spinning off; peers and browser engines run the fp32 graph';

/** The model written at each precision, and onnxruntime-node CPU's logits of each file (what the engines must match). */
async function precisionReference(
  cell: Cell,
  precisions: readonly Precision[],
  dir: string,
  calibration: string | undefined,
  io: Io,
): Promise<PrecisionRef> {
  const model = buildModel({ ...modelOptions(cell), weights: fanInFill(0) });
  const set = await writePrecisions(model.graph, precisions, dir, stem(cell), calibration, io.err);
  const logits = new Map<Precision, Float32Array>();
  for (const f of set.files) {
    const s = await createSession(f.path);
    const out = await s.logits(fixedInput(cell.batch, cell.resolution), cell.batch);
    await s.release();
    logits.set(f.precision, out.subarray(0, out.length / cell.batch));
  }
  return {
    set,
    logits,
    bytes: new Map(set.files.map((f) => [f.precision, { path: f.path, bytes: f.bytes }])),
    fp32Bytes: set.files.find((f) => f.precision === 'fp32')!.bytes,
  };
}

/** Engines that run on this machine's CPU cores: their GMAC/s are compared with the measured CPU peak. */
const CPU_ENGINES = new Set<Engine>(['cpu', 'wasm', 'wasm-browser', 'ort', 'tfjs-wasm', 'tfjs-cpu']);

/** The measured fp32 peak at each thread count the CPU cells use (see peak.ts). */
async function measurePeaks(cells: readonly Cell[], smoke: boolean): Promise<Peak[]> {
  const threads = [...new Set(cells.filter((c) => CPU_ENGINES.has(c.engine)).map((c) => c.threads))].sort(
    (a, b) => a - b,
  );
  const peaks: Peak[] = [];
  for (const t of threads)
    peaks.push(await measurePeak(t, smoke ? { sizes: [512], runs: 3 } : { sizes: PEAK_SIZES, runs: 10 }));
  return peaks;
}

const gmacsAt = (p: Peak) => `${p.gmacs.toFixed(1)} GMAC/s x${p.threads}`;

function progress(done: number, total: number): string {
  const w = 24;
  const f = Math.round((w * done) / total);
  return `[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total}`;
}

// Run when started as a program (pnpm bench), not when the tests import main.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--pipeline') {
    // The pipeline measurement (a folder of photos end to end, against PIL + torchvision) reads its own options.
    process.argv.splice(2, 1);
    await import('./pipeline.js');
  } else process.exitCode = await main(process.argv.slice(2));
}
