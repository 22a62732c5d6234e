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
 * The threads that ran a probe's `k` jobs: of the `k` whose CPU grew most between two snapshots (leaving out
 * `skip`), those that grew by at least half the median of the `k` (a thread that ran a job grew by about one job).
 */
export function ranJobs(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
  k: number,
  skip: ReadonlySet<number>,
): Set<number> {
  const grew = [...after]
    .filter(([tid]) => !skip.has(tid))
    .map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k);
  const median = grew[Math.floor(grew.length / 2)]?.[1] ?? 0;
  return new Set(grew.filter(([, ms]) => ms > 0 && ms >= median / 2).map(([tid]) => tid));
}

/** pbkdf2 iterations of one probe job: about 15 ms here (SHA-256, 2-core EPYC), long beside a GC slice. */
const PROBE_ITERATIONS = 30000;

/** One round of the probe: one job per pool thread, all queued at once (pbkdf2 runs on libuv's pool). */
async function probeRound(k: number, skip: ReadonlySet<number>): Promise<Set<number>> {
  const before = cpuByThread();
  const job = () =>
    new Promise<void>((done, fail) =>
      pbkdf2('probe', 'salt', PROBE_ITERATIONS, 32, 'sha256', (e) => (e ? fail(e) : done())),
    );
  await Promise.all(Array.from({ length: k }, job));
  return ranJobs(before, cpuByThread(), k, skip);
}

/**
 * libuv's pool threads, found by giving it work and seeing which threads ran it: on Node 20 they are named 'node'
 * like V8's threads and start with the process. Three rounds, and threads that ran a job in two of them count: on a
 * busy machine a pool thread may wake too late for its job in one round (another thread takes two), and a GC or
 * loader thread may be busy during one. About 180 ms of CPU with 4 pool threads.
 */
export async function findLibuvPool(skip: ReadonlySet<number>): Promise<Set<number>> {
  const k = poolSize();
  const rounds = new Map<number, number>();
  for (let round = 0; round < 3; round++)
    for (const tid of await probeRound(k, skip)) rounds.set(tid, (rounds.get(tid) ?? 0) + 1);
  return new Set([...rounds].filter(([, n]) => n >= 2).map(([tid]) => tid));
}
