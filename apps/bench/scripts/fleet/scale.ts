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
import {
  BULL_PREFIX,
  type Redis,
  connect,
  keysOf,
  parseQueueAddress,
  readResults,
  ready,
  storeResults,
} from '@mobilenet/fleet';
import { Queue, Worker } from 'bullmq';
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
    concurrency: { type: 'string', default: '1' },
    'scaling-only': { type: 'boolean', default: false },
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

/**
 * Runs `mobilenet ARGS` in a child that reports its own CPU time (user + system, process.resourceUsage) at exit:
 * on a machine others load, CPU time per image is steadier than wall time.
 */
async function cpuTimed(args: string[]): Promise<{ s: number; err: string; cpuS: number }> {
  const script = `const { main } = await import(${JSON.stringify(join(ROOT, 'packages/cli/src/index.ts'))});
process.exitCode = await main(${JSON.stringify(args)});
const u = process.resourceUsage();
process.stderr.write('\\ncpu-us ' + (u.userCPUTime + u.systemCPUTime) + '\\n');`;
  let err = '';
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', TSX, '--conditions=source', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d) => void (err += d));
  await finished(child);
  const cpu = /cpu-us (\d+)/.exec(err);
  if (!cpu) throw new Error(`no cpu-us line from mobilenet ${args.join(' ')}: ${err.slice(-2000)}`);
  return { s: (performance.now() - t0) / 1000, err, cpuS: Number(cpu[1]) / 1e6 };
}

/** CPU seconds a live process has used so far (Linux: /proc/PID/stat, utime + stime in clock ticks of 1/100 s). */
const procCpuS = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

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

  const warmup = join(work, 'warmup');
  await writeJpegs(warmup, 16, { seed: 7, size: 64 });
  const rows: Record<string, number | string>[] = [];
  // CPU per image of the local run: its CPU time less that of a run of 16 small images (start-up, model load).
  const base = await cpuTimed(['classify', warmup, '--model', model, '--jsonl', join(work, 'base.jsonl')]);
  const local = await cpuTimed(['classify', images, '--model', model, '--jsonl', join(work, 'local.jsonl')]);
  const localCpuMs = ((local.cpuS - base.cpuS) / (IMAGES - 16)) * 1000;
  const localIn = Number(/in ([\d.]+) s/.exec(local.err)?.[1]);
  rows.push({
    run: 'local pipeline',
    wall_s: local.s,
    measured_s: localIn,
    images_per_s: IMAGES / localIn,
    cpu_ms_per_image: localCpuMs,
    load1: loadavg()[0]!,
  });
  const expected = readFileSync(join(work, 'local.jsonl'), 'utf8');

  for (const n of values.workers!.split(',').map(Number)) {
    const queue = `bench-${n}`;
    const workers = Array.from({ length: n }, () =>
      mobilenet(['worker', '--queue', url, '--queue-name', queue, '--concurrency', values.concurrency!]),
    );
    started.push(...workers);
    // Workers live long and load a model once: a warm-up run of other images in jobs of 1 makes each load it
    // before the timed run (as the local figure is taken after the model is open).
    const warm = await timed([
      'classify',
      warmup,
      '--model',
      model,
      '--queue',
      url,
      '--queue-name',
      queue,
      '--chunk',
      '1',
      '--top',
      '1',
      '--jsonl',
      join(work, `warm-${n}.jsonl`),
    ]);
    if (warm.code !== 0) throw new Error(`warm-up failed: ${warm.err}`);
    const out = join(work, `fleet-${n}.jsonl`);
    const cpu0 = workers.map((w) => procCpuS(w.pid!));
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
    const workerCpuMs = (workers.reduce((t, w, i) => t + procCpuS(w.pid!) - cpu0[i]!, 0) / IMAGES) * 1000;
    const same = readFileSync(out, 'utf8') === expected;
    rows.push({
      run: `fleet, ${n} worker${n > 1 ? 's' : ''}`,
      wall_s: r.s,
      measured_s: followed,
      images_per_s: IMAGES / followed,
      vs_local: localIn / followed,
      cpu_ms_per_image: workerCpuMs,
      same_output: String(same),
      load1: loadavg()[0]!,
    });
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(finished));
  }
  if (values['scaling-only']) console.table(rows);
  else await extras(rows, { redis, images, model, url, localIn });
  redis.disconnect();
} finally {
  await stopAll();
}

/** Overhead per job, Redis CPU per job, Redis memory per queued image and per result; writes the JSON summary. */
async function extras(
  rows: Record<string, number | string>[],
  o: { redis: Redis; images: string; model: string; url: string; localIn: number },
): Promise<void> {
  const { redis, model, url } = o;
  // 1. The queue alone: jobs that do what a worker does around its compute (read which results exist, write 64
  // results with their events, complete), with no model: the time per job is the queue's overhead.
  const queue = new Queue('bare', { connection: redis, prefix: BULL_PREFIX });
  const keys = keysOf('bare');
  const JOBS = 300;
  const redisCpu = async () => {
    const info = await redis.info('cpu');
    return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
  };
  let done = 0;
  const bareConnection = redis.duplicate({ maxRetriesPerRequest: null });
  const worker = new Worker(
    'bare',
    async (job) => {
      const hashes = Array.from({ length: 64 }, (_, i) => `${job.id}-${i}`);
      await readResults(
        redis,
        hashes.map((h) => keys.result('m', h)),
      );
      await storeResults(
        redis,
        keys.events('bare'),
        600,
        hashes.map((h) => ({
          key: keys.result('m', h),
          hash: h,
          value: { ok: true, top: [{ index: 1, label: 'tench', probability: 0.5 }] },
        })),
      );
      done++;
    },
    { connection: bareConnection, prefix: BULL_PREFIX, concurrency: 1 },
  );
  const cpu0 = await redisCpu();
  const t0 = performance.now();
  await queue.addBulk(
    Array.from({ length: JOBS }, (_, i) => ({ name: 'chunk', data: {}, opts: { jobId: `bare-${i}` } })),
  );
  while (done < JOBS) await new Promise((r) => setTimeout(r, 20));
  const perJobMs = (performance.now() - t0) / JOBS;
  const redisCpuPerJobMs = ((await redisCpu()) - cpu0) * (1000 / JOBS);
  await worker.close();
  await queue.close();
  bareConnection.disconnect();

  // 2. Redis memory for 10,000 queued images (files with distinct bytes: only their hashes and paths reach Redis).
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
  // 3. A stored top-5 result: MEMORY USAGE of the result keys of the 1-worker run.
  const resultKeys = await redis.keys(
    `${keysOf('bench-1')
      .result('*', '*')
      .replace(/\*:\*$/, '*')}`,
  );
  let sample = 0;
  for (const k of resultKeys.slice(0, 200)) sample += Number(await redis.memory('USAGE', k));
  const perResult = sample / Math.min(200, resultKeys.length);

  const { cpus } = await import('node:os');
  const summary = {
    machine: `${process.arch}, ${cpus().length} cores (${cpus()[0]?.model})`,
    images: IMAGES,
    chunk: CHUNK,
    rows,
    queueOverheadPerJobMs: perJobMs,
    redisCpuPerJobMs,
    redisBytesPer10kQueued: queuedBytes,
    redisBytesPerTop5Result: perResult,
    redisMiBPerMillionTop5Results: (perResult * 1e6) / 2 ** 20,
  };
  mkdirSync(join(values.out!, '..'), { recursive: true });
  writeFileSync(values.out!, `${JSON.stringify(summary, null, 1)}\n`);
  console.table(rows);
  console.log(
    `queue overhead per job of 64 images (no model; take, check, 64 results + events, complete): ${perJobMs.toFixed(2)} ms, of which Redis CPU ${redisCpuPerJobMs.toFixed(3)} ms`,
  );
  console.log(
    `Redis memory for 10,000 queued images: ${(queuedBytes / 2 ** 20).toFixed(2)} MiB (${(queuedBytes / 1e4).toFixed(0)} bytes each)`,
  );
  console.log(
    `Redis memory per top-5 result: ${perResult.toFixed(0)} bytes (${summary.redisMiBPerMillionTop5Results.toFixed(0)} MiB per million)`,
  );
  console.log(
    `load average after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(`wrote ${values.out}`);
}
