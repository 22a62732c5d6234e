import type { TimelineUsage } from '@mobilenet/tools';
import type { PipelineTimeline, ThreadTimeline } from './pipeline-timeline.js';
import { THREAD_GROUPS, type ThreadGroup } from './thread-groups.js';

/**
 * The arithmetic on a recorded pipeline timeline: where the cores' time went per image, where the JavaScript thread
 * waited, and the ceiling its CPU per image allows against inference alone (issue 30). Pure: tests feed it
 * synthetic timelines.
 */

/** The rest of the machine: its busy CPU (/proc/stat) less this process's threads. */
export const OTHER_PROCESSES = 'other processes';
export type SeriesGroup = ThreadGroup | typeof OTHER_PROCESSES;

/** Not the pipeline's CPU: the profile's own sampler, and other processes. */
const NOT_PIPELINE: ReadonlySet<string> = new Set(['sampler', OTHER_PROCESSES]);

/** Each group's CPU so far (ms) at each sample: a thread counts 0 before it appears and keeps its last value after. */
export interface GroupSeries {
  readonly groups: readonly SeriesGroup[];
  readonly times: readonly number[];
  /** cum[i][g]: group g's CPU at times[i]. */
  readonly cum: readonly (readonly number[])[];
}

export function groupSeries(t: ThreadTimeline): GroupSeries {
  const groupOf = new Map(t.threads.map((th) => [th.tid, th.group]));
  const ours = THREAD_GROUPS.filter((g) => t.threads.some((th) => th.group === g));
  const machine = t.samples.length > 0 && t.samples.every((s) => s.machineMs !== undefined);
  const groups: SeriesGroup[] = machine ? [...ours, OTHER_PROCESSES] : ours;
  const last = new Map<number, number>();
  const cum = t.samples.map((s) => {
    s.tids.forEach((tid, i) => {
      last.set(tid, s.cpuMs[i]!);
    });
    const row = groups.map(() => 0);
    for (const [tid, ms] of last) row[ours.indexOf(groupOf.get(tid) ?? 'other')]! += ms;
    if (machine) row[ours.length] = s.machineMs! - sum(row);
    return row;
  });
  return { groups, times: t.samples.map((s) => s.t), cum };
}

/** Group g's CPU at time t, linear between samples (held flat outside them). */
export function cpuAt(s: GroupSeries, g: number, t: number): number {
  const { times, cum } = s;
  if (times.length === 0) return 0;
  if (t <= times[0]!) return cum[0]![g]!;
  const n = times.length - 1;
  if (t >= times[n]!) return cum[n]![g]!;
  let i = 0;
  while (times[i + 1]! < t) i++;
  const f = (t - times[i]!) / (times[i + 1]! - times[i]! || 1);
  return cum[i]![g]! + f * (cum[i + 1]![g]! - cum[i]![g]!);
}

/** Each group's CPU (ms) between times a and b. */
export function cpuBetween(s: GroupSeries, a: number, b: number): Partial<Record<SeriesGroup, number>> {
  return Object.fromEntries(s.groups.map((g, i) => [g, cpuAt(s, i, b) - cpuAt(s, i, a)]));
}

/**
 * Other processes' CPU comes from /proc/stat's 10 ms ticks summed over every core: over one 10-20 ms step that is a
 * handful of ticks, +-half a core of rounding. Their rate is averaged over a centred window of at least this.
 */
const TICK_WINDOW_MS = 100;

/** Group g's CPU rate (cores) over [a, b], or for other processes over a centred window of TICK_WINDOW_MS in [from, to]. */
function rate(s: GroupSeries, g: number, a: number, b: number, from: number, to: number): number {
  if (s.groups[g] === OTHER_PROCESSES && b - a < TICK_WINDOW_MS) {
    const mid = (a + b) / 2;
    [a, b] = [Math.max(from, mid - TICK_WINDOW_MS / 2), Math.min(to, mid + TICK_WINDOW_MS / 2)];
  }
  return b > a ? Math.max(0, (cpuAt(s, g, b) - cpuAt(s, g, a)) / (b - a)) : 0;
}

/**
 * Cores busy per group between sample times at least `minStep` ms apart, clipped to [from, to]: what the chart
 * stacks. Wider steps than the sampling's average out the jitter of single samples (a sampler woken late reads some
 * threads later than its timestamp) and keep the SVG small.
 */
export function usageOf(s: GroupSeries, from: number, to: number, minStep = 0): TimelineUsage {
  const times = [from];
  for (const t of s.times) if (t > from && t < to && t - times[times.length - 1]! >= minStep) times.push(t);
  times.push(to);
  const busy = times.slice(1).map((t, i) => s.groups.map((_, g) => rate(s, g, times[i]!, t, from, to)));
  return { groups: s.groups, times, busy };
}

export interface PipelineSummary {
  readonly images: number;
  readonly failed: number;
  readonly wallMs: number;
  readonly msPerImage: number;
  readonly cores: number;
  /** CPU per image by group (ms), other processes included; absent without thread samples. */
  readonly cpuPerImage?: Partial<Record<SeriesGroup, number>>;
  /** The pipeline's CPU per image: every group but the sampler (or process.cpuUsage without samples). */
  readonly pipelineCpuPerImage: number;
  /** pipeline CPU / wall / cores. */
  readonly coresBusy: number;
  /** Other processes' CPU / wall / cores, where /proc/stat was sampled: a shared machine. */
  readonly othersBusy?: number;
  /** The JavaScript thread, ms per image: `other` is what is left of the wall time (waiting for decodes, callbacks). */
  readonly js: {
    readonly run: number;
    readonly preprocess: number;
    readonly post: number;
    readonly other: number;
    readonly cpu?: number;
    readonly firstRunMs: number;
  };
  /**
   * The model's CPU per image inside the pipeline: the JavaScript thread's CPU during the runs (onnxruntime runs on
   * it too) plus onnxruntime's threads. Beside inference.cpuPerImage it says whether runs got dearer in company.
   */
  readonly modelCpuPerImage?: number;
  readonly decode: {
    readonly mean: number;
    readonly p50: number;
    readonly p90: number;
    readonly max: number;
    readonly slotWait: number;
  };
  readonly inference: {
    readonly batch: number;
    readonly runs: number;
    readonly msPerImage: number;
    readonly cpuPerImage?: number;
    /** Other processes' share of the cores while inference ran alone: a shared machine slows it too. */
    readonly othersBusy?: number;
  };
  /** Inference-only wall per image over the pipeline's: the share of inference throughput reached. */
  readonly share: number;
  /** What the pipeline's CPU per image allows at 100% of the cores, as a share of inference-only (at most 1). */
  readonly ceiling: number;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** The q-quantile of xs (nearest rank), 0 for none. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The pipeline's CPU in a window (ms): every group but the sampler and other processes; and each group's. */
function windowCpu(
  s: GroupSeries,
  a: number,
  b: number,
): { byGroup: Partial<Record<SeriesGroup, number>>; total: number } {
  const byGroup = cpuBetween(s, a, b);
  const total = sum(
    Object.entries(byGroup)
      .filter(([g]) => !NOT_PIPELINE.has(g))
      .map(([, v]) => v ?? 0),
  );
  return { byGroup, total };
}

/** The JavaScript thread's CPU during the model runs plus onnxruntime's threads' over the pipeline (ms). */
function modelCpuInRuns(s: GroupSeries, tl: PipelineTimeline): number {
  const js = s.groups.indexOf('JavaScript');
  const ort = s.groups.indexOf('onnxruntime');
  const inRuns = js < 0 ? 0 : sum(tl.batches.map((b) => cpuAt(s, js, b.runEnd) - cpuAt(s, js, b.runStart)));
  return inRuns + (ort < 0 ? 0 : cpuAt(s, ort, tl.wallMs) - cpuAt(s, ort, 0));
}

export function summarize(tl: PipelineTimeline): PipelineSummary {
  const n = Math.max(1, tl.images.length);
  const ok = tl.images.filter((i) => i.ok);
  const series = tl.threads ? groupSeries(tl.threads) : undefined;
  const pipe = series ? windowCpu(series, 0, tl.wallMs) : undefined;
  const inf = series ? windowCpu(series, tl.inference.start, tl.inference.end) : undefined;
  const pipelineCpuPerImage = (pipe?.total ?? tl.processCpuMs) / n;
  const decodes = ok.map((i) => i.decodeEnd - i.decodeStart);
  const js = {
    run: sum(tl.batches.map((b) => b.runEnd - b.runStart)) / n,
    preprocess: sum(ok.map((i) => i.preprocessEnd - i.decodeEnd)) / n,
    post: sum(tl.batches.map((b) => b.postMs)) / n,
    firstRunMs: tl.batches[0]?.runStart ?? tl.wallMs,
  };
  const msPerImage = tl.wallMs / n;
  const infMs = tl.inference.msPerImage;
  const modelCpu = series && modelCpuInRuns(series, tl);
  return {
    images: tl.images.length,
    failed: tl.images.length - ok.length,
    wallMs: tl.wallMs,
    msPerImage,
    cores: tl.cores,
    ...(pipe && { cpuPerImage: Object.fromEntries(Object.entries(pipe.byGroup).map(([g, v]) => [g, (v ?? 0) / n])) }),
    pipelineCpuPerImage,
    coresBusy: tl.wallMs > 0 ? (pipelineCpuPerImage * n) / tl.wallMs / tl.cores : 0,
    ...(pipe?.byGroup[OTHER_PROCESSES] !== undefined &&
      tl.wallMs > 0 && { othersBusy: Math.max(0, pipe.byGroup[OTHER_PROCESSES]) / tl.wallMs / tl.cores }),
    js: {
      ...js,
      other: Math.max(0, msPerImage - js.run - js.preprocess - js.post),
      ...(pipe && { cpu: (pipe.byGroup.JavaScript ?? 0) / n }),
    },
    ...(modelCpu !== undefined && { modelCpuPerImage: modelCpu / n }),
    decode: {
      mean: decodes.length ? sum(decodes) / decodes.length : 0,
      p50: quantile(decodes, 0.5),
      p90: quantile(decodes, 0.9),
      max: quantile(decodes, 1),
      slotWait: ok.length ? sum(ok.map((i) => i.decodeStart - i.queued)) / ok.length : 0,
    },
    inference: {
      batch: tl.inference.batch,
      runs: tl.inference.runs,
      msPerImage: infMs,
      ...(inf && { cpuPerImage: inf.total / (tl.inference.runs * tl.inference.batch) }),
      ...(inf?.byGroup[OTHER_PROCESSES] !== undefined &&
        tl.inference.end > tl.inference.start && {
          othersBusy: Math.max(0, inf.byGroup[OTHER_PROCESSES]) / (tl.inference.end - tl.inference.start) / tl.cores,
        }),
    },
    share: msPerImage > 0 ? infMs / msPerImage : 0,
    ceiling: pipelineCpuPerImage > 0 ? Math.min(1, (tl.cores * infMs) / pipelineCpuPerImage) : 1,
  };
}
