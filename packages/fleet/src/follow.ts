import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { BULL_PREFIX, type Keys } from './keys.js';
import { type StoredResult, readResults } from './results.js';
import { type RunRecord, chunkMap, runItems } from './run.js';

/** Where a run stands: images with a result (failed ones among them), chunks running, workers connected. */
export interface RunProgress {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly active: number;
  readonly waiting: number;
  readonly workers: number;
}

export interface FollowOptions {
  readonly onProgress?: (p: RunProgress) => void;
  /** How often progress is reported. Default 1000 ms. */
  readonly everyMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Waits until every image of the run has a result or its chunk failed for good, draining the run's events stream
 * (one entry per result written, one per chunk failed) and reporting progress. Every few quiet seconds it also asks
 * Redis directly (results and job states), so that an event lost with a Redis that restarted without AOF, or a
 * chunk another run enqueued, cannot keep it waiting.
 */
export async function followRun(
  redis: Redis,
  reader: Redis,
  queue: Queue,
  keys: Keys,
  run: RunRecord,
  o: FollowOptions = {},
): Promise<RunProgress> {
  const pending = new Set<string>();
  let failed = 0;
  let total = 0;
  for await (const batch of runItems(redis, keys, run.runId)) {
    total += batch.length;
    const hashed = batch.flatMap((x) => (x[1] === null ? [] : [x[1]]));
    failed += batch.length - hashed.length;
    const have = await readResults(
      redis,
      hashed.map((h) => keys.result(run.modelKey, h)),
    );
    hashed.forEach((h, i) => {
      const v = have[i];
      if (!v) pending.add(h);
      else if (!v.ok) failed++;
    });
  }
  let lastId = '0';
  let lastEvent = Date.now();
  let lastReport = 0;
  let lastCheck = Date.now();
  const settle = (h: string, ok: boolean) => {
    if (!pending.delete(h)) return;
    if (!ok) failed++;
  };
  const progress = async (): Promise<RunProgress> => {
    const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
    const workers = await queue.getWorkersCount();
    return {
      total,
      done: total - pending.size,
      failed,
      active: counts.active ?? 0,
      waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
      workers,
    };
  };
  while (pending.size > 0) {
    if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
    const answer = (await reader.xread('COUNT', 5000, 'BLOCK', 1000, 'STREAMS', keys.events(run.runId), lastId)) as
      | [string, [string, string[]][]][]
      | null;
    for (const [, entries] of answer ?? []) {
      for (const [id, fields] of entries) {
        lastId = id;
        lastEvent = Date.now();
        const f = fieldsOf(fields);
        if (f.h !== undefined) settle(f.h, f.ok !== '0');
        if (f.chunk !== undefined) await settleChunk(redis, keys, run, f.chunk, pending, settle);
      }
    }
    const now = Date.now();
    if (now - lastEvent > 3000 && now - lastCheck > 5000) {
      lastCheck = now;
      await reconcile(redis, queue, keys, run, pending, settle);
    }
    if (o.onProgress && now - lastReport >= (o.everyMs ?? 1000)) {
      lastReport = now;
      o.onProgress(await progress());
    }
  }
  const end = await progress();
  o.onProgress?.(end);
  return end;
}

const fieldsOf = (fields: string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
};

/** A failed chunk: its images that still have no result are settled as failed. */
async function settleChunk(
  redis: Redis,
  keys: Keys,
  run: RunRecord,
  jobId: string,
  pending: Set<string>,
  settle: (h: string, ok: boolean) => void,
): Promise<void> {
  const { hashesOf } = await chunkMap(redis, keys, run.runId);
  const hashes = (hashesOf.get(jobId) ?? []).filter((h) => pending.has(h));
  const have = await readResults(
    redis,
    hashes.map((h) => keys.result(run.modelKey, h)),
  );
  for (const [i, h] of hashes.entries()) settle(h, have[i]?.ok ?? false);
}

/** Asks Redis what the events did not say: results written, chunks failed or gone. */
async function reconcile(
  redis: Redis,
  queue: Queue,
  keys: Keys,
  run: RunRecord,
  pending: Set<string>,
  settle: (h: string, ok: boolean) => void,
): Promise<void> {
  const hashes = [...pending];
  const have = await readResults(
    redis,
    hashes.map((h) => keys.result(run.modelKey, h)),
  );
  hashes.forEach((h, i) => {
    const v = have[i];
    if (v) settle(h, v.ok);
  });
  const { jobOf, failed } = await chunkMap(redis, keys, run.runId);
  const jobs = new Set([...pending].map((h) => jobOf.get(h)).filter((j): j is string => j !== undefined));
  for (const id of jobs) {
    const state = await queue.getJobState(id);
    if (failed.has(id) || state === 'failed') await settleChunk(redis, keys, run, id, pending, settle);
  }
}

/** One image of a finished run, in input order: its stored result, or why there is none. */
export interface Collected {
  readonly name: string;
  readonly result: StoredResult;
}

/**
 * The run's results in input order, read from Redis a batch at a time. An image without a result is failed: its
 * chunk's reason (after --max-attempts), or 'no result' (still running, or expired past the TTL).
 */
export async function* collectRun(redis: Redis, keys: Keys, run: RunRecord): AsyncGenerator<Collected> {
  const { jobOf, failed } = await chunkMap(redis, keys, run.runId);
  for await (const batch of runItems(redis, keys, run.runId, 1000)) {
    const have = await readResults(
      redis,
      batch.map((x) => keys.result(run.modelKey, x[1] ?? 'none')),
    );
    for (const [i, x] of batch.entries()) {
      const [name, hash] = x;
      const stored = have[i];
      if (hash === null) yield { name, result: { ok: false, error: x[2]! } };
      else if (stored) yield { name, result: stored };
      else {
        const job = jobOf.get(hash);
        const why = job && failed.get(job);
        yield {
          name,
          result: {
            ok: false,
            error: why
              ? `${name}: ${why}`
              : `${name}: no result in Redis (its chunk ${job ?? '?'} has not finished, or the result expired)`,
          },
        };
      }
    }
  }
}

/** How many of the run's chunks were taken over after their worker died (BullMQ's stalled-job recovery). */
export async function stalledChunks(redis: Redis, queueName: string, keys: Keys, runId: string): Promise<number> {
  const { hashesOf } = await chunkMap(redis, keys, runId);
  let n = 0;
  for (const id of hashesOf.keys()) {
    if (Number((await redis.hget(`${BULL_PREFIX}:${queueName}:${id}`, 'stalledCounter')) ?? 0) > 0) n++;
  }
  return n;
}
