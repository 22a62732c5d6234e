import type { Redis } from 'ioredis';
import type { ModelRef, Task } from './model-ref.js';
import type { Keys } from './keys.js';

/** A run as Redis keeps it, so that `queue status|collect` can come back to it from any machine. */
export interface RunRecord {
  readonly runId: string;
  readonly task: Task;
  readonly model: ModelRef;
  readonly modelKey: string;
  readonly top: number;
  readonly total: number;
  /** What the outputs' header (classify --jsonl) or .meta.json (embed) say: the producer's, written as it is. */
  readonly header: unknown;
  readonly shardDir?: string;
  readonly createdAt: number;
}

/** One image of a run, in input order: its hash, or why the producer could not read it. */
export type RunItem = readonly [name: string, hash: string] | readonly [name: string, hash: null, error: string];

export async function readRun(redis: Redis, keys: Keys, runId: string): Promise<RunRecord | undefined> {
  const meta = await redis.get(keys.run(runId));
  return meta === null ? undefined : (JSON.parse(meta) as RunRecord);
}

/** The run's images in input order, a batch at a time. */
export async function* runItems(redis: Redis, keys: Keys, runId: string, batch = 5000): AsyncGenerator<RunItem[]> {
  for (let at = 0; ; at += batch) {
    const raw = await redis.lrange(keys.runItems(runId), at, at + batch - 1);
    if (raw.length === 0) return;
    yield raw.map((r) => JSON.parse(r) as RunItem);
    if (raw.length < batch) return;
  }
}

/** Which chunk job each image hash went to (the last enqueue wins), and the chunks that failed with why. */
export async function chunkMap(
  redis: Redis,
  keys: Keys,
  runId: string,
): Promise<{ jobOf: Map<string, string>; hashesOf: Map<string, string[]>; failed: Map<string, string> }> {
  const jobOf = new Map<string, string>();
  const hashesOf = new Map<string, string[]>();
  for (const raw of await redis.lrange(keys.runChunks(runId), 0, -1)) {
    const c = JSON.parse(raw) as { id: string; hashes: string[] };
    hashesOf.set(c.id, c.hashes);
    for (const h of c.hashes) jobOf.set(h, c.id);
  }
  const failed = new Map(Object.entries(await redis.hgetall(keys.runFailed(runId))));
  return { jobOf, hashesOf, failed };
}

/** The runs this queue knows, newest first. */
export async function listRuns(redis: Redis, keys: Keys, limit = 20): Promise<string[]> {
  return redis.zrevrange(keys.runs, 0, limit - 1);
}
