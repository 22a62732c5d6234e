import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CHUNK_JOB, type ChunkData, type ChunkItem } from './job.js';
import { BULL_PREFIX, type Keys, jobIdOf, modelKeyOf, sha256 } from './keys.js';
import type { ModelRef } from './model-ref.js';
import { readResults } from './results.js';
import { readImage } from './files.js';
import { type RunItem, type RunRecord, readRun } from './run.js';

export interface RunSpec {
  readonly model: ModelRef;
  readonly top: number;
  /** In input order: the name results carry and the path workers read (absolute, on storage they all see). */
  readonly images: readonly { readonly name: string; readonly path: string }[];
  /** Images per job. */
  readonly chunk: number;
  readonly maxAttempts: number;
  /** Seconds results, runs and finished jobs are kept in Redis. */
  readonly ttlS: number;
  readonly header: unknown;
  /** Embed: where workers write their shards (shared storage). */
  readonly shardDir?: string;
  /** Called as files are hashed (done, total). */
  readonly onHashed?: (done: number, total: number) => void;
}

export interface Enqueued {
  readonly runId: string;
  readonly total: number;
  /** Images whose result was already in Redis (an earlier run of the same model): not enqueued. */
  readonly known: number;
  readonly jobs: number;
  /** Jobs BullMQ did not have yet (re-running the producer adds none). */
  readonly added: number;
}

/** Content hashes of files, a few read at once; a file that cannot be read is an error for that image. */
async function hashAll(spec: RunSpec): Promise<RunItem[]> {
  const items: RunItem[] = new Array(spec.images.length);
  let next = 0;
  let done = 0;
  const one = async () => {
    for (let i = next++; i < spec.images.length; i = next++) {
      const { name, path } = spec.images[i]!;
      try {
        items[i] = [name, sha256(await readImage(path))];
      } catch (e) {
        items[i] = [name, null, `${name}: cannot read: ${(e as Error).message}`];
      }
      if (++done % 256 === 0) spec.onHashed?.(done, spec.images.length);
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
  spec.onHashed?.(done, spec.images.length);
  return items;
}

/**
 * Records the run and enqueues one job per chunk of images that have no result yet. The run's ID and each job's ID
 * come from content hashes, so running the producer again finds its run and adds no job twice.
 */
export async function enqueueRun(redis: Redis, queue: Queue, keys: Keys, spec: RunSpec): Promise<Enqueued> {
  const task = spec.model.task;
  const modelKey = modelKeyOf(spec.model.sha256, task, spec.top);
  const items = await hashAll(spec);
  const runId = sha256(`${modelKey}\n${items.map((i) => `${i[0]}\0${i[1]}`).join('\n')}`).slice(0, 24);
  const record: RunRecord = {
    runId,
    task,
    model: spec.model,
    modelKey,
    top: spec.top,
    total: items.length,
    header: spec.header,
    ...(spec.shardDir && { shardDir: spec.shardDir }),
    createdAt: Date.now(),
  };
  if (await redis.set(keys.run(runId), JSON.stringify(record), 'EX', spec.ttlS, 'NX')) {
    for (let i = 0; i < items.length; i += 5000)
      await redis.rpush(keys.runItems(runId), ...items.slice(i, i + 5000).map((x) => JSON.stringify(x)));
    await redis.zadd(keys.runs, record.createdAt, runId);
  }
  const hashed = items.flatMap((x, i) => (x[1] === null ? [] : [{ hash: x[1], i }]));
  const have = await readResults(
    redis,
    hashed.map((x) => keys.result(modelKey, x.hash)),
  );
  // Chunks of the run's distinct images in input order, the same on every run of the producer (so the same job
  // IDs); a chunk is enqueued unless all its images have a result.
  const seen = new Set<string>();
  const distinct: { item: ChunkItem; known: boolean }[] = [];
  hashed.forEach((x, k) => {
    if (seen.has(x.hash)) return;
    seen.add(x.hash);
    distinct.push({
      item: { name: spec.images[x.i]!.name, path: spec.images[x.i]!.path, hash: x.hash },
      known: have[k] !== null,
    });
  });
  const chunks: ChunkItem[][] = [];
  for (let c = 0; c < distinct.length; c += spec.chunk) {
    const chunk = distinct.slice(c, c + spec.chunk);
    if (chunk.some((x) => !x.known)) chunks.push(chunk.map((x) => x.item));
  }
  let added = 0;
  let jobs = 0;
  for (let at = 0; at < chunks.length; at += 200) {
    const batch = chunks.slice(at, at + 200).map((items) => ({
      id: jobIdOf(
        modelKey,
        items.map((x) => x.hash),
      ),
      items,
    }));
    const before = await Promise.all(batch.map((b) => queue.getJobState(b.id)));
    await queue.addBulk(
      batch.map((b) => ({
        name: CHUNK_JOB,
        data: {
          runId,
          model: spec.model,
          modelKey,
          top: spec.top,
          items: b.items,
          maxAttempts: spec.maxAttempts,
          ttlS: spec.ttlS,
          ...(spec.shardDir && { shardDir: spec.shardDir }),
        } satisfies ChunkData,
        opts: {
          jobId: b.id,
          attempts: spec.maxAttempts,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { age: spec.ttlS },
          removeOnFail: { age: spec.ttlS },
        },
      })),
    );
    await redis.rpush(
      keys.runChunks(runId),
      ...batch.map((b) => JSON.stringify({ id: b.id, hashes: b.items.map((x) => x.hash) })),
    );
    added += before.filter((s) => s === 'unknown').length;
    jobs += batch.length;
  }
  for (const k of [keys.runItems(runId), keys.runChunks(runId), keys.run(runId), keys.events(runId)])
    await redis.expire(k, spec.ttlS);
  return { runId, total: items.length, known: have.filter((v) => v !== null).length, jobs, added };
}

/** Opens the BullMQ queue of a fleet on a connection. */
export const openQueue = (name: string, connection: Redis): Queue =>
  new Queue(name, { connection, prefix: BULL_PREFIX });

export { readRun };
