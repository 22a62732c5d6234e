// The fleet end to end, on loopback only: our own redis-server (AOF on, a free port, a temporary folder), worker
// processes forked here, the producer run in this process; everything started is stopped in afterAll, and every
// wait is bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type TestRedis, startRedis, writeJpegs } from '@mobilenet/fleet/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cleanTmp, run, tmp } from '../../test/testing.js';

// 2,000 images in the proof; CI runs a seeded 400 on its 2 cores (FLEET_IMAGES=2000 runs the full proof).
const IMAGES = Number(process.env.FLEET_IMAGES ?? 400);
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const STEP_MS = 120_000;

interface WorkerProcess {
  readonly child: ChildProcess;
  log: string;
}

const workers: WorkerProcess[] = [];
let redis: TestRedis;
let dir: string;
let images: string;
let model: string;
let local: string;

function startWorker(queue: string): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      TSX_LOADER,
      '--conditions=source',
      BIN,
      'worker',
      '--queue',
      redis.url,
      '--queue-name',
      queue,
      '--lock',
      '2',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const w: WorkerProcess = { child, log: '' };
  child.stderr!.on('data', (d) => void (w.log += d));
  workers.push(w);
  return w;
}

/** Resolves when `test` holds, polling every 50 ms; fails after `ms`. */
async function until(what: string, test: () => boolean, ms = STEP_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stopAll = async () => {
  await Promise.all(
    workers.splice(0).map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return;
      const exited = new Promise((r) => w.child.once('exit', r));
      w.child.kill('SIGKILL');
      await exited;
    }),
  );
};

beforeAll(async () => {
  redis = await startRedis();
  dir = tmp();
  images = join(dir, 'images');
  await writeJpegs(images, IMAGES, { seed: 29 });
  // A bad image fails that image, not its chunk.
  writeFileSync(join(images, 'img-00007-broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  model = join(dir, 'tiny.onnx');
  const e = await run(
    'export',
    '--arch',
    'v3-small',
    '--convention',
    'torchvision',
    '--resolution',
    '64',
    '--width',
    '0.5',
    '-o',
    model,
  );
  expect(e.code).toBe(0);
  local = join(dir, 'local.jsonl');
  const l = await run('classify', images, '--model', model, '--jsonl', local);
  expect(l.code).toBe(1); // the broken image
});

afterAll(async () => {
  await stopAll();
  await redis?.cleanup();
  cleanTmp();
});

const lines = (path: string) => readFileSync(path, 'utf8').trimEnd().split('\n');

describe('mobilenet classify --queue', () => {
  it('loses and repeats nothing when workers are killed (kill -9) mid-chunk twice: the output equals a local run', async () => {
    const queue = 'kill';
    for (let i = 0; i < 3; i++) startWorker(queue);
    await until('3 workers up', () => workers.every((w) => w.log.includes('taking chunks')));
    const out = join(dir, 'fleet.jsonl');
    const producer = run(
      'classify',
      images,
      '--model',
      model,
      '--queue',
      redis.url,
      '--queue-name',
      queue,
      '--chunk',
      '25',
      '--max-attempts',
      '5',
      '--jsonl',
      out,
    );
    // Twice: a worker that has started a chunk and not finished it is killed with SIGKILL, and another started.
    let killed = 0;
    for (let tries = 0; killed < 2 && tries < 200; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      const busy = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null && inChunk(w.log));
      if (!busy) continue;
      busy.child.kill('SIGKILL');
      await new Promise((r) => busy.child.once('exit', r));
      if (!inChunk(busy.log)) continue; // it finished before the signal landed: not a kill mid-chunk
      killed++;
      startWorker(queue);
    }
    expect(killed).toBe(2);
    const r = await producer;
    expect(r.code).toBe(1); // the broken image, as in the local run
    expect(r.err).toMatch(/img-00007-broken\.jpg/);
    const stalled = Number(/(\d+) chunks taken over after their worker died/.exec(r.err)?.[1]);
    expect(stalled).toBeGreaterThanOrEqual(1);
    const got = lines(out);
    const names = got.slice(1).map((l) => (JSON.parse(l) as { image: string }).image);
    expect(names.length).toBe(IMAGES + 1);
    expect(new Set(names).size).toBe(IMAGES + 1);
    expect(got).toEqual(lines(local)); // byte for byte, header included, in input order
  });

  it('finishes with the same output when Redis is restarted mid-run (AOF on)', async () => {
    await stopAll();
    const queue = 'restart';
    for (let i = 0; i < 3; i++) startWorker(queue);
    await until('3 workers up', () => workers.every((w) => w.log.includes('taking chunks')));
    const out = join(dir, 'restart.jsonl');
    const producer = run(
      'classify',
      images,
      '--model',
      model,
      '--queue',
      redis.url,
      '--queue-name',
      queue,
      '--chunk',
      '25',
      '--jsonl',
      out,
    );
    const finished = () => workers.reduce((n, w) => n + (w.log.match(/ finished /g)?.length ?? 0), 0);
    await until('a few chunks finished', () => finished() >= 3);
    await redis.restart();
    const r = await producer;
    expect(r.code).toBe(1);
    expect(finished()).toBeLessThanOrEqual(Math.ceil(IMAGES / 25) + 1 + 3); // chunks after the restart were not all redone
    expect(lines(out)).toEqual(lines(local));
    expect(workers.some((w) => /reconnected to Redis/.test(w.log))).toBe(true);
  });
});

/** The worker's log says it started a chunk that it has not finished. */
function inChunk(log: string): boolean {
  const started = [...log.matchAll(/chunk (\S+) started/g)].map((m) => m[1]);
  const finished = new Set([...log.matchAll(/chunk (\S+) finished/g)].map((m) => m[1]));
  return started.some((c) => !finished.has(c));
}
