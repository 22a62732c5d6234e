// The fleet's scaling on this machine (issue 29): images/s of `mobilenet classify DIR --queue` with 1, 2 and 4
// worker processes against the local pipeline (`mobilenet classify DIR --jsonl`) on the same folder and model, the
// queue's overhead per job, and Redis' memory per 10,000 queued images and per result. Everything runs on loopback:
// a redis-server of its own (AOF on, fsync every second as in production) in a temporary folder, stopped at the end.
//
//   pnpm --filter bench bench:fleet [--images 2000] [--size 256] [--resolution 224] [--chunk 64] [--workers 1,2,4]
//
// Wall times of whole commands on a machine that others may share: the load average is printed beside them.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { connect, keysOf, parseQueueAddress, ready } from '@mobilenet/fleet';
import { freePort, writeJpegs } from '@mobilenet/fleet/testing';

const ROOT = resolve(import.meta.dirname, '../../../..');
const BIN = join(ROOT, 'packages/cli/src/bin.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '2000' },
    size: { type: 'string', default: '256' },
    resolution: { type: 'string', default: '224' },
    chunk: { type: 'string', default: '64' },
    workers: { type: 'string', default: '1,2,4' },
    out: { type: 'string', default: join(ROOT, 'bench-results/fleet.json') },
  },
});
const IMAGES = Number(values.images);
const CHUNK = Number(values.chunk);

const mobilenet = (args: string[], o: { log?: (t: string) => void } = {}): ChildProcess => {
  const child = spawn(process.execPath, ['--import', TSX, '--conditions=source', BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d) => o.log?.(String(d)));
  return child;
};
const finished = (c: ChildProcess) =>
  new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

/** Runs a command to its end: its wall time and what it wrote to stderr. */
async function timed(args: string[]): Promise<{ s: number; err: string; code: number | null }> {
  let err = '';
  const t0 = performance.now();
  const code = await finished(mobilenet(args, { log: (t) => void (err += t) }));
  return { s: (performance.now() - t0) / 1000, err, code };
}

const work = mkdtempSync(join(tmpdir(), 'mobilenet-fleet-bench-'));
const port = await freePort();
const redisDir = join(work, 'redis');
mkdirSync(redisDir);
const server = spawn(
  '/usr/bin/redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes', '--save', ''],
  { stdio: 'ignore' },
);
const url = `redis://127.0.0.1:${port}/0`;
const started: ChildProcess[] = [server];
const stopAll = async () => {
  for (const c of started.reverse()) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await finished(c);
      clearTimeout(t);
    }
  }
  rmSync(work, { recursive: true, force: true });
};
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const address = parseQueueAddress(url);
  const redis = connect(address);
  await ready(redis, address);
  const images = join(work, 'images');
  console.error(
    `fleet bench: ${IMAGES} JPEGs of ${values.size}x${values.size}, v3-small at ${values.resolution} (seeded), chunks of ${CHUNK}`,
  );
  await writeJpegs(images, IMAGES, { seed: 29, size: Number(values.size) });
  const model = join(work, 'model.onnx');
  await timed([
    'export',
    '--arch',
    'v3-small',
    '--convention',
    'torchvision',
    '--resolution',
    values.resolution!,
    '-o',
    model,
  ]);

  const rows: Record<string, number | string>[] = [];
  const local = await timed(['classify', images, '--model', model, '--jsonl', join(work, 'local.jsonl')]);
  const localIn = Number(/in ([\d.]+) s/.exec(local.err)?.[1]);
  rows.push({
    run: 'local pipeline',
    wall_s: local.s,
    measured_s: localIn,
    images_per_s: IMAGES / localIn,
    load1: loadavg()[0]!,
  });
  const expected = readFileSync(join(work, 'local.jsonl'), 'utf8');

  for (const n of values.workers!.split(',').map(Number)) {
    const queue = `bench-${n}`;
    const workers = Array.from({ length: n }, () => mobilenet(['worker', '--queue', url, '--queue-name', queue]));
    started.push(...workers);
    const out = join(work, `fleet-${n}.jsonl`);
    const r = await timed([
      'classify',
      images,
      '--model',
      model,
      '--queue',
      url,
      '--queue-name',
      queue,
      '--chunk',
      String(CHUNK),
      '--jsonl',
      out,
    ]);
    const followed = Number(/in ([\d.]+) s;/.exec(r.err)?.[1]);
    const same = readFileSync(out, 'utf8') === expected;
    rows.push({
      run: `fleet, ${n} worker${n > 1 ? 's' : ''}`,
      wall_s: r.s,
      measured_s: followed,
      images_per_s: IMAGES / followed,
      vs_local: localIn / followed,
      same_output: String(same),
      load1: loadavg()[0]!,
    });
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(finished));
  }
  // The queue's overhead per job: the same 256 images on one worker in jobs of 1 and in jobs of 64; the difference
  // in time over the difference in jobs. (Another --top gives each its own results, so both compute everything.)
  const subset = join(work, 'subset');
  mkdirSync(subset);
  const few = Math.min(256, IMAGES);
  for (let i = 0; i < few; i++) {
    const name = `img-${String(i).padStart(5, '0')}.jpg`;
    writeFileSync(join(subset, name), readFileSync(join(images, name)));
  }
  const worker = mobilenet(['worker', '--queue', url, '--queue-name', 'overhead']);
  started.push(worker);
  const per: Record<number, number> = {};
  const redisCpu = async () => {
    const info = await redis.info('cpu');
    return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
  };
  let cpuAt1 = 0;
  for (const [chunk, top] of [
    [64, 4],
    [1, 3],
  ] as const) {
    if (chunk === 1) cpuAt1 = await redisCpu();
    const r = await timed([
      'classify',
      subset,
      '--model',
      model,
      '--queue',
      url,
      '--queue-name',
      'overhead',
      '--chunk',
      String(chunk),
      '--top',
      String(top),
      '--jsonl',
      join(work, `overhead-${chunk}.jsonl`),
    ]);
    per[chunk] = Number(/in ([\d.]+) s;/.exec(r.err)?.[1]);
  }
  const cpu1 = await redisCpu();
  // Redis' own CPU per job of one image (the whole run in jobs of 1: take, lock, result, event, complete).
  const redisCpuPerJobMs = ((cpu1 - cpuAt1) / few) * 1000;
  worker.kill('SIGTERM');
  await finished(worker);
  const overheadMs = ((per[1]! - per[64]!) / (few - Math.ceil(few / 64))) * 1000;
  rows.push({ run: `overhead: ${few} images in jobs of 64`, measured_s: per[64]!, load1: loadavg()[0]! });
  rows.push({ run: `overhead: ${few} images in jobs of 1`, measured_s: per[1]!, load1: loadavg()[0]! });

  // Redis memory: 10,000 queued images (files with distinct bytes: only their hashes and paths reach Redis).
  const queued = join(work, 'queued');
  mkdirSync(queued);
  for (let i = 0; i < 10_000; i++) writeFileSync(join(queued, `photo-${String(i).padStart(5, '0')}.jpg`), `image ${i}`);
  const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  const before = await used();
  const d = await timed([
    'classify',
    queued,
    '--model',
    model,
    '--queue',
    url,
    '--queue-name',
    'memory',
    '--chunk',
    String(CHUNK),
    '--detach',
  ]);
  if (d.code !== 0) throw new Error(`the detached producer failed: ${d.err}`);
  const queuedBytes = (await used()) - before;
  // A stored top-5 result: MEMORY USAGE of the result keys of the 1-worker run.
  const keys = await redis.keys(
    `${keysOf('bench-1')
      .result('*', '*')
      .replace(/\*:\*$/, '*')}`,
  );
  let sample = 0;
  for (const k of keys.slice(0, 200)) sample += Number(await redis.memory('USAGE', k));
  const perResult = sample / Math.min(200, keys.length);
  redis.disconnect();

  const summary = {
    machine: `${process.arch}, ${(await import('node:os')).cpus().length} cores (${(await import('node:os')).cpus()[0]?.model})`,
    images: IMAGES,
    chunk: CHUNK,
    rows,
    queueOverheadPerJobMs: overheadMs,
    redisCpuPerJobMs,
    redisBytesPer10kQueued: queuedBytes,
    redisBytesPerTop5Result: perResult,
    redisMiBPerMillionTop5Results: (perResult * 1e6) / 2 ** 20,
  };
  mkdirSync(join(values.out!, '..'), { recursive: true });
  writeFileSync(values.out!, `${JSON.stringify(summary, null, 1)}\n`);
  console.table(rows);
  console.log(
    `queue overhead per job (${few} images in jobs of 1 minus in jobs of 64, per extra job): ${overheadMs.toFixed(1)} ms`,
  );
  console.log(
    `Redis memory for 10,000 queued images: ${(queuedBytes / 2 ** 20).toFixed(2)} MiB (${(queuedBytes / 1e4).toFixed(0)} bytes each)`,
  );
  console.log(
    `Redis memory per top-5 result: ${perResult.toFixed(0)} bytes (${summary.redisMiBPerMillionTop5Results.toFixed(0)} MiB per million)`,
  );
  console.log(`wrote ${values.out}`);
} finally {
  await stopAll();
}
