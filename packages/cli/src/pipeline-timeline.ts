import { preprocess } from '@mobilenet/core';
import {
  type BatchStats,
  type ImageInput,
  type ImageTiming,
  type NodeSession,
  createSession,
  decodeImage,
  imageName,
} from '@mobilenet/runtime-node';
import { type ThreadCensus, type ThreadGroup, findLibuvPool, groupOf } from './thread-groups.js';
import {
  type ThreadSample,
  type ThreadSampler,
  listThreads,
  ownTid,
  startThreadSampler,
  threadViewUnavailable,
} from './thread-sampler.js';

/**
 * Records the folder pipeline as a timeline (`mobilenet profile --pipeline`, issue 30): each image's decode and
 * preprocessing, each batch's run, every thread's CPU every ~10 ms, and then the same session on one preprocessed
 * batch alone (inference only), the throughput the pipeline is measured against.
 */

/** One batch: its run on the JavaScript thread and the stage times the pipeline reports with it. */
export interface TimelineBatch {
  /** Images taken, failed ones included; `batch` is the rows run (padding included for a fixed batch). */
  readonly images: number;
  readonly failed: number;
  readonly batch: number;
  readonly runStart: number;
  readonly runEnd: number;
  readonly waitMs: number;
  readonly postMs: number;
}

export interface ThreadInfo {
  readonly tid: number;
  readonly comm: string;
  readonly group: ThreadGroup;
}

/** Per-thread CPU samples (times on the pipeline's clock: ms from its start). */
export interface ThreadTimeline {
  readonly clock: 'schedstat' | 'stat';
  readonly intervalMs: number;
  readonly thinned: boolean;
  readonly threads: readonly ThreadInfo[];
  readonly samples: readonly ThreadSample[];
}

export interface InferenceOnly {
  readonly batch: number;
  readonly runs: number;
  /** Median run over the batch size. */
  readonly msPerImage: number;
  /** The timed runs' window, on the pipeline's clock (for its CPU from the thread samples). */
  readonly start: number;
  readonly end: number;
}

export interface PipelineTimeline {
  readonly wallMs: number;
  readonly cores: number;
  readonly images: readonly ImageTiming[];
  readonly batches: readonly TimelineBatch[];
  /** The whole process's user + system CPU over the pipeline (process.cpuUsage: every platform). */
  readonly processCpuMs: number;
  readonly threads?: ThreadTimeline;
  /** Why there are no thread samples (not Linux, /proc unreadable). */
  readonly threadsMissing?: string;
  readonly inference: InferenceOnly;
}

export interface RecordOptions {
  readonly threads?: number;
  readonly batch?: number;
  /** Timed runs of the inference-only batch (after one warm-up). */
  readonly runs: number;
  readonly cores: number;
  readonly intervalMs?: number;
  /** Called as each image's result arrives. */
  readonly onResult?: () => void;
}

const SAMPLE_MS = 10;
/** Samples kept: 200 s at 10 ms before thinning. */
const MAX_SAMPLES = 20000;

/** The sampler, or why not; and which threads are libuv's pool (probed before anything is timed). */
async function startWatching(): Promise<{ sampler?: ThreadSampler; libuv: Set<number>; missing?: string }> {
  const missing = threadViewUnavailable();
  if (missing) return { libuv: new Set(), missing };
  let sampler: ThreadSampler | undefined;
  try {
    sampler = await startThreadSampler(SAMPLE_MS, MAX_SAMPLES);
    const libuv = await findLibuvPool(new Set([ownTid(), sampler.samplerTid]));
    return { sampler, libuv };
  } catch (e) {
    await sampler?.stop().catch(() => undefined);
    return { libuv: new Set(), missing: `the thread sampler failed: ${(e as Error).message}` };
  }
}

/** The session, and the threads that appeared while onnxruntime started it: its intra-op pool. */
async function openWatched(bytes: Uint8Array, threads: number | undefined, watching: boolean) {
  const before = new Set(watching ? listThreads().map((t) => t.tid) : []);
  const session = await createSession(bytes, { ...(threads && { threads }), spinning: false });
  const onnxruntime = new Set(
    watching
      ? listThreads()
          .filter((t) => !before.has(t.tid) && !/vips/i.test(t.comm))
          .map((t) => t.tid)
      : [],
  );
  return { session, onnxruntime };
}

/** One preprocessed batch of the folder's first images (repeated to fill it), run `runs` times after a warm-up. */
async function inferenceOnly(
  session: NodeSession,
  files: readonly ImageInput[],
  batch: number,
  runs: number,
  origin: number,
): Promise<InferenceOnly> {
  const pre = session.info.preprocessing;
  const one = 3 * pre.size * pre.size;
  const input = new Float32Array(batch * one);
  let filled = 0;
  let firstError = '';
  for (let i = 0; i < files.length && filled < batch; i++) {
    try {
      preprocess(await decodeImage(files[i]!, imageName(files[i]!, i)), pre, input, filled * one);
      filled++;
    } catch (e) {
      // An image the pipeline reported as failed: the next one fills its place.
      firstError ||= (e as Error).message;
    }
  }
  if (filled === 0)
    throw new Error(
      `no image decoded (${files.length} tried), so there is no inference to compare with: ${firstError}`,
    );
  for (let i = filled; i < batch; i++) input.copyWithin(i * one, (i % filled) * one, ((i % filled) + 1) * one);
  await session.logits(input, batch);
  const times: number[] = [];
  const start = performance.now();
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await session.logits(input, batch);
    times.push(performance.now() - t);
  }
  const end = performance.now();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  return { batch, runs, msPerImage: median / batch, start: start - origin, end: end - origin };
}

/** The batch size the pipeline settled on: its most common run (a batch of failed images only runs nothing). */
function usualBatch(batches: readonly TimelineBatch[], fallback: number): number {
  const counts = new Map<number, number>();
  for (const b of batches) if (b.batch > 0) counts.set(b.batch, (counts.get(b.batch) ?? 0) + 1);
  const best = [...counts].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0];
  return best?.[0] ?? fallback;
}

function threadTimeline(
  done: Awaited<ReturnType<ThreadSampler['stop']>>,
  census: ThreadCensus,
  origin: number,
): ThreadTimeline {
  const threads = [...done.comms].map(([tid, comm]) => ({ tid, comm, group: groupOf(tid, comm, census) }));
  const samples = done.samples.map((s) => ({ ...s, t: s.t - origin }));
  return { clock: done.clock, intervalMs: SAMPLE_MS, thinned: done.thinned, threads, samples };
}

/** The pipeline's own timings, on its clock (ms from its start), and the process's CPU over it. */
async function timedRun(session: NodeSession, files: readonly ImageInput[], o: RecordOptions) {
  const images: ImageTiming[] = [];
  const stats: BatchStats[] = [];
  const cpu0 = process.cpuUsage();
  const origin = performance.now();
  const on = { onImage: (t: ImageTiming) => images.push(t), onBatch: (s: BatchStats) => stats.push(s) };
  for await (const _ of session.classifyAll(files, { ...on, ...(o.batch && { batch: o.batch }) })) o.onResult?.();
  const wallMs = performance.now() - origin;
  const cpu = process.cpuUsage(cpu0);
  const rel = (t: number) => t - origin;
  const batches = stats.map((s) => ({
    images: s.images,
    failed: s.failed,
    batch: s.batch,
    runStart: rel(s.runStart),
    runEnd: rel(s.runEnd),
    waitMs: s.waitMs,
    postMs: s.postMs,
  }));
  const timings = images
    .map((t) => ({
      ...t,
      queued: rel(t.queued),
      decodeStart: rel(t.decodeStart),
      decodeEnd: rel(t.decodeEnd),
      preprocessEnd: rel(t.preprocessEnd),
    }))
    .sort((a, b) => a.index - b.index);
  return { origin, wallMs, images: timings, batches, processCpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Runs the folder through `session.classifyAll` with every timing recorded; the sampler stops whatever happens. */
export async function recordPipeline(
  bytes: Uint8Array,
  files: readonly ImageInput[],
  o: RecordOptions,
): Promise<PipelineTimeline> {
  const watch = await startWatching();
  try {
    const { session, onnxruntime } = await openWatched(bytes, o.threads, watch.sampler !== undefined);
    try {
      const { origin, ...run } = await timedRun(session, files, o);
      const inference = await inferenceOnly(session, files, o.batch ?? usualBatch(run.batches, 1), o.runs, origin);
      const census = { jsTid: ownTid(), samplerTid: watch.sampler?.samplerTid ?? -1, onnxruntime, libuv: watch.libuv };
      const done = await watch.sampler?.stop();
      const threads = done ? { threads: threadTimeline(done, census, origin) } : undefined;
      return { ...run, cores: o.cores, ...(threads ?? { threadsMissing: watch.missing ?? 'no samples' }), inference };
    } finally {
      await session.release();
    }
  } finally {
    await watch.sampler?.stop().catch(() => undefined);
  }
}
