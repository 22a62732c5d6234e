import { resolve } from 'node:path';
import { escapeControls, toOnnx } from '@mobilenet/core';
import {
  type Collected,
  type ModelRef,
  type QueueAddress,
  type Redis,
  type RunProgress,
  type RunRecord,
  ShardReader,
  collectRun,
  connect,
  enqueueRun,
  followRun,
  keysOf,
  listRuns,
  openQueue,
  readRun,
  ready,
  sha256,
  stalledChunks,
} from '@mobilenet/fleet';
import { JSONL_FORMAT, JsonlSink, imagesOfArgs, nameOf } from '../collection.js';
import { EXIT, optionError, quote } from '../errors.js';
import { failedCount, modelRecord, modelSource } from '../image-run.js';
import { type Io, checkOutputPath, openOutput, writeAll, writeFileAtomic } from '../io.js';
import { MatrixWriter, matrixFormat } from '../matrix-file.js';
import { readModelFile } from '../model-file.js';
import { between, integer } from '../numbers.js';
import { type OptionSpec, parse } from '../parse.js';
import { loadNamed } from '../pretrained.js';
import { openSession } from '../session.js';
import { version } from '../version.js';
import { EMBED_FORMAT, fileListPath, metaPath } from '../embed-files.js';
import { QUEUE_OPTIONS, address, queueName } from './fleet-options.js';

/** Results, runs and finished jobs stay in Redis this long: a week to come back with `queue collect`. */
const TTL_S = 7 * 24 * 3600;
/** A producer or `queue` command waits this long for an unreachable Redis, retrying with backoff, then fails. */
const GIVE_UP_MS = 30_000;

type Task = 'classify' | 'embed';

/** A connection for a command: it says when Redis is unreachable, retries with backoff, and gives up after a while. */
async function open(a: QueueAddress, io: Io, command: string): Promise<Redis> {
  const redis = connect(a, { onState: (t) => io.err(`mobilenet ${command}: ${t}\n`), giveUpMs: GIVE_UP_MS });
  await ready(redis, a);
  return redis;
}

/** Options of a local run that a fleet does not carry to its workers: refused rather than silently dropped. */
const NOT_WITH_QUEUE = ['resume', 'json', 'labels', 'threads', 'backend', 'fallback', 'max-pixels', 'allow-any-op'];
const WHY_NOT: Record<string, string> = {
  resume: 'results already in Redis are kept: run it again',
  json: 'write --jsonl OUT',
  backend: "give it to each 'mobilenet worker'",
  threads: 'workers use all their cores',
};

export interface ProducerValues {
  readonly queue?: string;
  readonly 'queue-name'?: string;
  readonly chunk?: string;
  readonly detach?: true;
  readonly 'max-attempts'?: string;
  readonly model?: string;
  readonly arch?: string;
  readonly top?: string;
  readonly jsonl?: string;
  readonly output?: string;
  readonly force?: true;
  readonly resume?: true;
  readonly recursive?: true;
  readonly offline?: true;
}

/** `classify|embed ... --queue URL`: enqueue, follow, write the outputs of a local run. */
export async function produce(task: Task, values: ProducerValues, positionals: string[], io: Io): Promise<number> {
  const a = address(values.queue);
  const name = queueName(values['queue-name']);
  const chunk = integer('chunk', values.chunk, between(1, 10_000)) ?? 64;
  const maxAttempts = integer('max-attempts', values['max-attempts'], between(1, 100)) ?? 3;
  const top = task === 'classify' ? (integer('top', values.top, between(1, 1000)) ?? 5) : 0;
  const local = NOT_WITH_QUEUE.find((k) => (values as Record<string, unknown>)[k] !== undefined);
  if (local)
    throw optionError(
      `--${local}`,
      `no --${local} with --queue (${WHY_NOT[local] ?? 'a local run only'})`,
      `--${local}`,
    );
  const out = task === 'classify' ? values.jsonl : values.output;
  const outOption = task === 'classify' ? '--jsonl' : '-o';
  if (out === undefined && !(task === 'classify' && values.detach))
    throw optionError(
      outOption,
      `a file to write with --queue${task === 'embed' ? ' (its shards go beside it)' : ' (or --detach)'}`,
      'nothing',
    );
  if (out !== undefined) checkOutputPath(out, values.force === true, outOption);
  if (task === 'embed') matrixFormat(out!, '-o');
  const source = modelSource(values);
  if (source.kind === 'arch')
    throw optionError(
      '--arch',
      '--model FILE.onnx (on storage every worker sees) or a pretrained name with --queue: workers load the model by path or name',
      `--arch ${values.arch}`,
    );
  const { files, skipped } = imagesOfArgs(positionals, values.recursive === true);
  for (const s of skipped) io.err(`mobilenet ${task}: ${s.path}: skipped, ${s.reason}\n`);
  const images = files.map((f) =>
    typeof f === 'string'
      ? { name: f, path: resolve(f) }
      : { name: nameOf(f), path: resolve(f.path.toString('latin1')) },
  );
  const options = task === 'embed' ? { embedding: true, batch: 'dynamic' as const } : { batch: 'dynamic' as const };
  const bytes =
    source.kind === 'named'
      ? toOnnx((await loadNamed(source.name, options, values, io, task)).graph)
      : readModelFile(source.file, '--model');
  const hash = sha256(bytes);
  const model: ModelRef =
    source.kind === 'named'
      ? { kind: 'named', name: source.name, sha256: hash, task }
      : { kind: 'file', path: resolve(source.file), sha256: hash, task };
  const header = await headerOf(task, values.model!, bytes, top);
  const redis = await open(a, io, task);
  const queue = openQueue(name, redis);
  const keys = keysOf(name);
  try {
    const enq = await enqueueRun(redis, queue, keys, {
      model,
      top,
      images,
      chunk,
      maxAttempts,
      ttlS: TTL_S,
      header,
      ...(task === 'embed' && { shardDir: resolve(`${out!.replace(/\.(npy|safetensors)$/i, '')}.shards`) }),
    });
    io.err(
      `mobilenet ${task}: run ${enq.runId}: ${enq.total} images, ${enq.known} with a result already, ${enq.jobs} chunks of up to ${chunk} (${enq.added} new) on ${a.shown} queue '${name}'\n`,
    );
    if (values.detach) {
      io.out(`${enq.runId}\n`);
      io.err(
        `mobilenet ${task}: detached; later: mobilenet queue collect --queue ${a.shown} --queue-name ${name} --run ${enq.runId} ${outOption} OUT\n`,
      );
      return EXIT.ok;
    }
    const run = (await readRun(redis, keys, enq.runId))!;
    return await finish(run, { redis, a, name, out: out!, force: values.force === true, io, command: task });
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** What the outputs say of the model, as a local run would: the JSON-lines header or the .meta.json. */
async function headerOf(task: Task, name: string, bytes: Uint8Array, top: number): Promise<unknown> {
  const session = await openSession(bytes, { backend: 'cpu', name }, 'the producer reads the model on the CPU');
  try {
    const model = modelRecord(name, bytes);
    const preprocessing = session.info.preprocessing;
    if (task === 'classify') return { format: JSONL_FORMAT, version: version(), model, preprocessing, top };
    if (!session.info.embeddingName)
      throw optionError(
        '--model',
        "a model with an 'embedding' output (mobilenet export writes one unless --no-embedding)",
        quote(name),
      );
    return { format: EMBED_FORMAT, version: version(), model, output: session.info.embeddingName, preprocessing };
  } finally {
    await session.release();
  }
}

interface Finish {
  readonly redis: Redis;
  readonly a: QueueAddress;
  readonly name: string;
  readonly out: string;
  readonly force: boolean;
  readonly io: Io;
  readonly command: string;
}

/** Follows a run to its end with a progress bar, then writes its outputs in input order. */
async function finish(run: RunRecord, f: Finish): Promise<number> {
  const { io, command } = f;
  const keys = keysOf(f.name);
  const reader = f.redis.duplicate();
  const queue = openQueue(f.name, f.redis);
  const stop = new AbortController();
  const onSignal = (s: NodeJS.Signals) => stop.abort(s);
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const t0 = performance.now();
  let lastLine = 0;
  try {
    await followRun(f.redis, reader, queue, keys, run, {
      signal: stop.signal,
      onProgress: (p) => {
        const now = performance.now();
        if (io.isTty) io.err(`\r${bar(p)}`);
        else if (now - lastLine > 5000 || p.done === p.total)
          (lastLine = now), io.err(`mobilenet ${command}: ${bar(p)}\n`);
      },
    });
  } catch (e) {
    if (!stop.signal.aborted) throw e;
    const s = stop.signal.reason as NodeJS.Signals;
    io.err(
      `\nmobilenet ${command}: stopped following (${s}); the run goes on in the queue: mobilenet queue collect --queue ${f.a.shown} --queue-name ${f.name} --run ${run.runId}\n`,
    );
    return s === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    if (io.isTty) io.err('\n');
    reader.disconnect();
    await queue.close();
  }
  const failed = await write(run, f);
  const stalled = await stalledChunks(f.redis, f.name, keys, run.runId);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  io.err(
    `mobilenet ${command}: ${run.total - failed} of ${run.total} images in ${escapeControls(f.out)} in ${seconds} s` +
      `${failed ? `; ${failedCount(failed, run.total)}` : ''}; ${stalled} chunks taken over after their worker died (stalled)\n`,
  );
  return failed ? EXIT.failure : EXIT.ok;
}

const bar = (p: RunProgress): string => {
  const width = 30;
  const filled = p.total ? Math.round((width * p.done) / p.total) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} done, ${p.failed} failed, ${p.active} chunks in flight, ${p.waiting} waiting, ${p.workers} workers alive `;
};

/** The outputs of a local run from the run's results, in input order; returns how many images failed. */
async function write(run: RunRecord, f: Finish): Promise<number> {
  const keys = keysOf(f.name);
  const results = collectRun(f.redis, keys, run);
  let failed = 0;
  const fail = (c: Collected) => {
    if (c.result.ok) return false;
    failed++;
    f.io.err(`mobilenet ${f.command}: ${c.result.error}\n`);
    return true;
  };
  if (run.task === 'classify') {
    const sink = await JsonlSink.open(f.out, { force: f.force, resume: false }, run.header as never);
    try {
      for await (const c of results) {
        fail(c);
        sink.write({ image: c.name, ...c.result });
      }
    } finally {
      sink.close();
    }
    return failed;
  }
  checkOutputPath(fileListPath(f.out), f.force, '-o (its file list)');
  checkOutputPath(metaPath(f.out), f.force, '-o (its .meta.json)');
  await writeFileAtomic(metaPath(f.out), new TextEncoder().encode(`${JSON.stringify(run.header, null, 1)}\n`));
  const matrix = new MatrixWriter(f.out, matrixFormat(f.out, '-o'), false, '-o');
  const list = openOutput(fileListPath(f.out), 'truncate');
  const shards = new ShardReader(run.shardDir!);
  try {
    let rows: Float32Array[] = [];
    let names: string[] = [];
    const flush = () => {
      matrix.append(rows);
      writeAll(list, Buffer.from(names.map((n) => `${n}\n`).join('')), fileListPath(f.out));
      rows = [];
      names = [];
    };
    for await (const c of results) {
      if (fail(c) || !('shard' in c.result)) continue;
      rows.push(shards.row(c.result.shard, c.result.row));
      names.push(c.name);
      if (rows.length >= 256) flush();
    }
    flush();
  } finally {
    shards.close();
    matrix.close();
    (await import('node:fs')).closeSync(list);
  }
  return failed;
}

const QUEUE_CMD_OPTIONS = {
  queue: QUEUE_OPTIONS.queue,
  'queue-name': QUEUE_OPTIONS['queue-name'],
  run: { type: 'string', expects: 'a run ID (printed by the producer; default: the newest run)' },
  jsonl: { type: 'string', expects: 'a file to write (a classify run)' },
  output: { type: 'string', short: 'o', expects: 'a .npy or .safetensors file to write (an embed run)' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} as const satisfies OptionSpec;

export const QUEUE_CMD_HELP = `Usage: mobilenet queue status --queue redis://HOST:PORT/DB [--queue-name Q] [--json]
       mobilenet queue collect --queue redis://HOST:PORT/DB [--run ID] (--jsonl OUT | -o OUT) [--force]

status: the queue's chunks (waiting, in flight, done, failed), the workers alive, and its runs (images done and
failed of each). collect: follows a run (the newest, or --run ID) to its end and writes what a local classify
(--jsonl) or embed (-o) would have written, in input order.
`;

/** `mobilenet queue status|collect`. */
export async function queueCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === undefined)
    return (io.out(QUEUE_CMD_HELP), sub ? EXIT.ok : EXIT.usage);
  if (sub !== 'status' && sub !== 'collect') throw optionError('subcommand', 'status or collect', quote(sub));
  const { values } = parse(rest, QUEUE_CMD_OPTIONS);
  if (values.help) return (io.out(QUEUE_CMD_HELP), EXIT.ok);
  const a = address(values.queue);
  const name = queueName(values['queue-name']);
  const keys = keysOf(name);
  const redis = await open(a, io, 'queue');
  try {
    if (sub === 'status') return await status(redis, name, io, values.json === true);
    const runId = values.run ?? (await listRuns(redis, keys, 1))[0];
    const run = runId === undefined ? undefined : await readRun(redis, keys, runId);
    if (!run)
      throw optionError(
        '--run',
        'a run this queue holds (mobilenet queue status lists them)',
        runId === undefined ? 'none: the queue has no run' : quote(runId),
      );
    const out = run.task === 'classify' ? values.jsonl : values.output;
    if (out === undefined)
      throw optionError(
        run.task === 'classify' ? '--jsonl' : '-o',
        `a file to write the ${run.task} run's results to`,
        'nothing',
      );
    checkOutputPath(out, values.force === true, run.task === 'classify' ? '--jsonl' : '-o');
    return await finish(run, { redis, a, name, out, force: values.force === true, io, command: 'queue collect' });
  } finally {
    redis.disconnect();
  }
}

async function status(redis: Redis, name: string, io: Io, json: boolean): Promise<number> {
  const keys = keysOf(name);
  const queue = openQueue(name, redis);
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    const workers = await queue.getWorkersCount();
    const runs = [];
    for (const id of await listRuns(redis, keys, 10)) {
      const run = await readRun(redis, keys, id);
      if (!run) continue;
      let done = 0;
      let failed = 0;
      for await (const c of collectRun(redis, keys, run)) {
        if (c.result.ok) done++;
        else if (!c.result.error.includes('no result in Redis')) failed++;
      }
      runs.push({
        run: id,
        task: run.task,
        model: (run.header as { model?: { name?: string } }).model?.name,
        total: run.total,
        done,
        failed,
        created: new Date(run.createdAt).toISOString(),
      });
    }
    if (json) io.out(`${JSON.stringify({ queue: name, chunks: counts, workers, runs }, null, 1)}\n`);
    else {
      io.out(
        `queue '${name}': ${counts.waiting ?? 0} chunks waiting, ${counts.active ?? 0} in flight, ${counts.completed ?? 0} done, ${counts.failed ?? 0} failed; ${workers} workers alive\n`,
      );
      for (const r of runs)
        io.out(
          `run ${r.run} (${r.task}, ${r.model ?? '?'}, ${r.created}): ${r.done} of ${r.total} images done, ${r.failed} failed\n`,
        );
    }
    return EXIT.ok;
  } finally {
    await queue.close();
  }
}
