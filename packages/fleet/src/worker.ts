import { hostname } from 'node:os';
import type { EmbedResult, ClassifyResult } from '@mobilenet/core';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { type QueueAddress, connect } from './connection.js';
import { CHUNK_JOB, type ChunkData, type ChunkItem } from './job.js';
import { BULL_PREFIX, keysOf, sha256 } from './keys.js';
import { ModelCache, ModelMismatchError, sessionsOn } from './model-ref.js';
import { type StoredResult, readResults, storeResults } from './results.js';
import { readImage } from './files.js';
import { writeShard } from './shards.js';

const CONNECTION_ERROR = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|Connection is closed/;

export interface WorkerOptions {
  readonly address: QueueAddress;
  readonly queue: string;
  /** Chunks run at once in this process (each through the same session). Default 1. */
  readonly concurrency?: number;
  readonly backend?: string;
  /** How long a chunk's lock lives without renewal; BullMQ renews it every half of this while the chunk runs. */
  readonly lockMs?: number;
  /** How often stalled chunks (whose worker died) are looked for and put back in the queue. */
  readonly stalledIntervalMs?: number;
  /** What the worker tells (chunk started/finished, Redis lost/back). */
  readonly log?: (text: string) => void;
}

export interface FleetWorker {
  /** Stops taking chunks, finishes the ones running, closes. */
  close(): Promise<void>;
  /** Stops at once: running chunks keep their lock until it expires, then another worker takes them. */
  kill(): Promise<void>;
  readonly closed: Promise<void>;
}

/** Starts a worker: it takes chunks from the queue until closed. */
export async function startWorker(o: WorkerOptions): Promise<FleetWorker> {
  const log = o.log ?? (() => {});
  const connection = connect(o.address, { onState: log });
  const store = connect(o.address, { onState: () => {} });
  const models = new ModelCache(sessionsOn(o.backend ?? 'cpu'));
  const keys = keysOf(o.queue);
  const batches = new Map<string, number>();
  const id = `${hostname()}:${process.pid}`;
  const worker = new Worker<ChunkData>(o.queue, (job) => runChunk(job, { models, store, keys, log, id, batches }), {
    connection,
    prefix: BULL_PREFIX,
    // CLIENT SETNAME refuses spaces: a name with one would hide the worker from getWorkers (workers alive).
    name: `mobilenet-worker-${id.replace(/[^\w.:-]/g, '_')}`,
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockMs ?? 30_000,
    stalledInterval: o.stalledIntervalMs ?? o.lockMs ?? 30_000,
    // Crashes are counted against the job's own maxAttempts (attemptsStarted), not by BullMQ's separate stall limit.
    maxStalledCount: 1000,
    autorun: true,
  });
  // A lost connection is told once by connect() (and again when it is back), not once per retry by BullMQ.
  worker.on('error', (e) => {
    if (!CONNECTION_ERROR.test(e.message)) log(`queue error: ${e.message}`);
  });
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const finish = async (force: boolean) => {
    // Forced: Redis may be the reason (unreachable), so nothing waits on it: connections are dropped first and the
    // chunk in hand keeps its lock until it expires, then another worker takes it.
    if (force) {
      store.disconnect();
      connection.disconnect();
    }
    const closing = worker.close(force).catch(() => {});
    await (force ? Promise.race([closing, new Promise((r) => setTimeout(r, 2000).unref())]) : closing);
    await models.close();
    store.disconnect();
    connection.disconnect();
    done();
  };
  await worker.waitUntilReady();
  return { close: () => finish(false), kill: () => finish(true), closed };
}

interface Context {
  readonly models: ModelCache;
  readonly store: import('ioredis').Redis;
  readonly keys: ReturnType<typeof keysOf>;
  readonly log: (text: string) => void;
  readonly id: string;
  /** Batch size per model hash, learned on the worker's first chunk of that model. */
  readonly batches: Map<string, number>;
}

/** One chunk: its images that have no result yet are run through the pipeline; each result is written once. */
async function runChunk(job: Job<ChunkData>, c: Context): Promise<{ fresh: number }> {
  if (job.name !== CHUNK_JOB) throw new UnrecoverableError(`not a chunk job: '${job.name}'`);
  const d = job.data;
  // attemptsStarted counts every start, those cut short by a dead worker included (BullMQ moved them back).
  if (job.attemptsStarted > d.maxAttempts) {
    const why = `chunk ${job.id} failed after ${d.maxAttempts} attempts (its workers died or it never finished)`;
    await chunkFailed(c, d.runId, job.id!, why);
    throw new UnrecoverableError(why);
  }
  c.log(`chunk ${job.id} started (${d.items.length} images, attempt ${job.attemptsStarted})`);
  try {
    const t0 = performance.now();
    const fresh = await computeChunk(job, c);
    c.log(`chunk ${job.id} finished (${fresh} new results in ${((performance.now() - t0) / 1000).toFixed(2)} s)`);
    return { fresh };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const last = e instanceof ModelMismatchError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (last) await chunkFailed(c, d.runId, job.id!, `chunk ${job.id} failed: ${why}`);
    if (e instanceof ModelMismatchError) throw new UnrecoverableError(why);
    throw e;
  }
}

/** A chunk that will not be tried again: named in its run (for collect) and on its events stream (for the producer). */
async function chunkFailed(c: Context, runId: string, jobId: string, why: string): Promise<void> {
  await c.store.hset(c.keys.runFailed(runId), jobId, why);
  await c.store.xadd(c.keys.events(runId), '*', 'chunk', jobId, 'failed', why);
}

async function computeChunk(job: Job<ChunkData>, c: Context): Promise<number> {
  const d = job.data;
  const events = c.keys.events(d.runId);
  const keyOf = (i: ChunkItem) => c.keys.result(d.modelKey, i.hash);
  // What an earlier attempt already wrote is not computed again; its images are still announced to this run.
  const have = await readResults(c.store, d.items.map(keyOf));
  const todo = d.items.filter((_, i) => have[i] === null);
  const known = d.items.flatMap((item, i) => {
    const value = have[i];
    return value ? [{ key: keyOf(item), hash: item.hash, value }] : [];
  });
  await storeResults(c.store, events, d.ttlS, known);
  if (todo.length === 0) return 0;
  const session = await c.models.get(d.model);
  const unread: { item: ChunkItem; error: string }[] = [];
  const fed: ChunkItem[] = [];
  // Each file is read once, checked against the hash it was enqueued with, and handed to the pipeline as bytes.
  async function* inputs() {
    for (const item of todo) {
      let bytes: Uint8Array;
      try {
        bytes = await readImage(item.path);
      } catch (e) {
        unread.push({ item, error: `${item.name}: cannot read on worker ${c.id}: ${(e as Error).message}` });
        continue;
      }
      if (sha256(bytes) !== item.hash) {
        unread.push({ item, error: `${item.name}: changed since it was queued (its content hash differs)` });
        continue;
      }
      fed.push(item);
      yield { name: item.name, bytes };
    }
  }
  const out: { key: string; hash: string; value: StoredResult }[] = [];
  const rows: { item: ChunkItem; embedding: Float32Array }[] = [];
  let n = 0;
  // The pipeline sizes its batches by timing runs from batch 1 up; a chunk of 64 would spend half its images
  // finding the size again. The size a worker's first chunk settled on is kept for the model's next chunks.
  const learned = c.batches.get(d.model.sha256);
  const sizes: number[] = [];
  const options = { ...(learned && { batch: learned }), onBatch: (b: { batch: number }) => void sizes.push(b.batch) };
  const results: AsyncIterable<ClassifyResult | EmbedResult> =
    d.model.task === 'classify'
      ? session.classifyAll(inputs(), { topK: d.top, ...options })
      : session.embedAll(inputs(), options);
  for await (const r of results) {
    const item = fed[n++]!;
    if (!r.ok) out.push({ key: keyOf(item), hash: item.hash, value: { ok: false, error: r.error } });
    else if ('top' in r) out.push({ key: keyOf(item), hash: item.hash, value: { ok: true, top: r.top } });
    else rows.push({ item, embedding: r.embedding });
    if (n % 16 === 0) await job.updateProgress(n);
  }
  // The last full batch (the one before the chunk's tail) is the size the pipeline had reached.
  if (!learned && sizes.length >= 3) c.batches.set(d.model.sha256, sizes[sizes.length - 2]!);
  for (const u of unread) out.push({ key: keyOf(u.item), hash: u.item.hash, value: { ok: false, error: u.error } });
  if (rows.length) {
    const name = `${c.id.replace(/[^\w.-]/g, '_')}-${job.id}-${job.attemptsStarted}`;
    const shard = writeShard(
      d.shardDir!,
      name,
      rows.map((r) => r.embedding),
      rows.map((r) => r.item.hash),
    );
    for (const [row, r] of rows.entries())
      out.push({ key: keyOf(r.item), hash: r.item.hash, value: { ok: true, shard, row } });
  }
  return storeResults(c.store, events, d.ttlS, out);
}
