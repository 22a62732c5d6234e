import { pbkdf2 } from 'node:crypto';
import { cpuByThread } from './thread-sampler.js';

/**
 * Which part of the pipeline a thread works for. On Node 20 only libvips names its threads ('libvips worker'):
 * the JavaScript thread, V8's platform workers, libuv's pool and onnxruntime's intra-op threads are all 'node', so
 * the others are found by what they do (see findLibuvPool) and when they appear (onnxruntime's, at session start).
 */
export const THREAD_GROUPS = ['JavaScript', 'onnxruntime', 'libvips', 'libuv pool', 'other', 'sampler'] as const;
export type ThreadGroup = (typeof THREAD_GROUPS)[number];

/** What each group holds, for the summary and the chart's legend. */
export const GROUP_NOTES: Readonly<Record<ThreadGroup, string>> = {
  JavaScript: 'the main thread: preprocessing, callbacks, and its share of each model run',
  onnxruntime: "onnxruntime's intra-op threads",
  libvips: "libvips' worker threads (sharp's decodes)",
  'libuv pool': "libuv's pool (sharp's calls into libvips, file reads)",
  other: "V8's GC and compiler threads, module loader, others",
  sampler: "this profile's own sampler (not counted in the pipeline's CPU)",
};

/** The threads found by looking: each tid in at most one set. */
export interface ThreadCensus {
  /** The thread that runs the pipeline: the process's main thread, unless main() runs in a worker (vitest's). */
  readonly jsTid: number;
  readonly samplerTid: number;
  readonly onnxruntime: ReadonlySet<number>;
  readonly libuv: ReadonlySet<number>;
}

/** A thread's group: by tid for the JavaScript thread and the sampler, by name where there is one, else the census. */
export function groupOf(tid: number, comm: string, census: ThreadCensus): ThreadGroup {
  if (tid === census.jsTid) return 'JavaScript';
  if (tid === census.samplerTid) return 'sampler';
  if (/vips/i.test(comm)) return 'libvips';
  if (comm === 'libuv-worker' || census.libuv.has(tid)) return 'libuv pool';
  if (census.onnxruntime.has(tid)) return 'onnxruntime';
  return 'other';
}

/** libuv's pool size: UV_THREADPOOL_SIZE when set (libuv caps it at 1024), else its default of 4. */
export function poolSize(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : 4;
}

/**
 * The threads that ran some of a probe's `jobs` jobs: of the `k` (the pool's size) whose CPU grew most between two
 * snapshots, leaving out `skip`, those that grew by at least half a job (a job's CPU: their growth over the jobs).
 * A GC or loader thread busy meanwhile grows by less than a 7 ms job, or is outvoted over the rounds.
 */
export function ranJobs(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
  k: number,
  jobs: number,
  skip: ReadonlySet<number>,
): Set<number> {
  const grew = [...after]
    .filter(([tid]) => !skip.has(tid))
    .map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k);
  const job = grew.reduce((a, [, ms]) => a + ms, 0) / jobs;
  return new Set(grew.filter(([, ms]) => ms > 0 && ms >= job / 2).map(([tid]) => tid));
}

/** pbkdf2 iterations of one probe job: about 7 ms here (SHA-256, 2-core EPYC), long beside a GC slice. */
const PROBE_ITERATIONS = 15000;
/** Rounds at most: a loaded machine may need more than two for every pool thread to win a job twice. */
const PROBE_ROUNDS = 5;

/** One round of the probe: two jobs per pool thread, all queued at once (pbkdf2 runs on libuv's pool). */
async function probeRound(k: number, skip: ReadonlySet<number>): Promise<Set<number>> {
  const before = cpuByThread();
  const job = () =>
    new Promise<void>((done, fail) =>
      pbkdf2('probe', 'salt', PROBE_ITERATIONS, 32, 'sha256', (e) => (e ? fail(e) : done())),
    );
  await Promise.all(Array.from({ length: 2 * k }, job));
  return ranJobs(before, cpuByThread(), k, 2 * k, skip);
}

/**
 * libuv's pool threads, found by giving it work and seeing which threads ran it: on Node 20 they are named 'node'
 * like V8's threads and start with the process. A thread counts once it ran jobs in two rounds (a GC or loader
 * thread busy during one round is not taken for the pool); rounds go on until all `poolSize()` threads count, at most
 * PROBE_ROUNDS (on a busy machine a pool thread may wake too late to get a job in a round). About 60 ms of CPU per
 * round with 4 pool threads; two rounds on a quiet machine.
 */
export async function findLibuvPool(skip: ReadonlySet<number>): Promise<Set<number>> {
  const k = poolSize();
  const votes = new Map<number, number>();
  const counted = () => [...votes].filter(([, n]) => n >= 2).map(([tid]) => tid);
  for (let round = 0; round < PROBE_ROUNDS && counted().length < k; round++)
    for (const tid of await probeRound(k, skip)) votes.set(tid, (votes.get(tid) ?? 0) + 1);
  return new Set(counted());
}
