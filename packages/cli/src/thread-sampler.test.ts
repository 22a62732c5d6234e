import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { type ThreadCensus, findLibuvPool, groupOf, poolSize, ranJobs } from './thread-groups.js';
import {
  TICK_MS,
  cpuByThread,
  ownTid,
  parseMachineStat,
  parseSchedstat,
  parseTaskStat,
  startThreadSampler,
  threadViewUnavailable,
} from './thread-sampler.js';

// The kernel's format (proc(5)): pid (comm) state ppid ... utime(14) stime(15) ... starttime(22) ...
const tail = (utime: number, stime: number, start: number) =>
  `S 1 1 0 0 -1 4194368 100 0 0 0 ${utime} ${stime} 0 0 20 0 7 0 ${start} 1 2 3`;

describe('parseTaskStat', () => {
  it('reads the name in parentheses and the CPU ticks after it', () => {
    expect(parseTaskStat(`4242 (node) ${tail(12, 3, 900)}\n`)).toEqual({
      tid: 4242,
      comm: 'node',
      cpuTicks: 15,
      startTicks: 900,
    });
  });

  it('finds the fields from the last parenthesis: a name with spaces, parentheses and ") ("', () => {
    expect(parseTaskStat(`7 (libvips worker) ${tail(31, 11, 5)}`)).toMatchObject({
      comm: 'libvips worker',
      cpuTicks: 42,
    });
    // A thread may name itself anything up to 15 bytes, ") S 1 2" included: splitting on spaces would misread it.
    expect(parseTaskStat(`8 (a) S 1 2 (b) ${tail(5, 6, 77)}`)).toEqual({
      tid: 8,
      comm: 'a) S 1 2 (b',
      cpuTicks: 11,
      startTicks: 77,
    });
    expect(parseTaskStat(`9 (()) ${tail(1, 0, 1)}`)).toMatchObject({ comm: '()', cpuTicks: 1 });
  });

  it('refuses what is not a stat line', () => {
    for (const bad of ['', 'node', '12 node S 1', `(x) ${tail(1, 1, 1)}`, `12 (x) S 1 2`, `x (y) ${tail(1, 1, 1)}`])
      expect(parseTaskStat(bad)).toBeUndefined();
  });

  it.skipIf(threadViewUnavailable() !== undefined)('reads this thread as the kernel writes it', () => {
    const tid = ownTid();
    const s = parseTaskStat(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
    expect(s?.tid).toBe(tid);
    expect(s?.comm).toBe(readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim());
    // This thread has loaded vitest and this file: some CPU, counted in 10 ms ticks.
    expect(s!.cpuTicks * TICK_MS).toBeGreaterThan(0);
  });
});

describe('threadViewUnavailable', () => {
  it('says why elsewhere than Linux: macOS and Windows have no /proc', () => {
    expect(threadViewUnavailable('darwin')).toBe("per-thread CPU needs Linux's /proc (this is darwin)");
    expect(threadViewUnavailable('win32')).toBe("per-thread CPU needs Linux's /proc (this is win32)");
  });
});

describe('parseMachineStat', () => {
  it("sums /proc/stat's busy fields (user nice system irq softirq steal), in ms, leaving out idle, iowait and guest", () => {
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice
    expect(parseMachineStat('cpu  100 2 30 5000 40 1 2 3 50 0\ncpu0 50 1 15 2500 20 0 1 1 25 0\n')).toBe(1380);
    expect(parseMachineStat('cpu  100 2 30 5000\n')).toBe(1320); // an old kernel: four fields
    expect(parseMachineStat('cpu0 1 2 3 4\n')).toBeUndefined();
    expect(parseMachineStat('cpu  x 2 3 4\n')).toBeUndefined();
  });
});

describe('parseSchedstat', () => {
  it('reads nanoseconds on a CPU as milliseconds', () => {
    expect(parseSchedstat('2500000 100 7\n')).toBe(2.5);
    expect(parseSchedstat('x 1 2')).toBeNaN();
  });
});

describe('groupOf', () => {
  const census: ThreadCensus = { jsTid: 100, samplerTid: 200, onnxruntime: new Set([300]), libuv: new Set([400]) };
  it('groups by tid for the JavaScript thread and the sampler, by name where there is one, else by the census', () => {
    expect(groupOf(100, 'node', census)).toBe('JavaScript');
    expect(groupOf(200, 'node', census)).toBe('sampler');
    expect(groupOf(500, 'libvips worker', census)).toBe('libvips');
    expect(groupOf(501, 'vips-12', census)).toBe('libvips');
    expect(groupOf(502, 'libuv-worker', census)).toBe('libuv pool');
    expect(groupOf(400, 'node', census)).toBe('libuv pool');
    expect(groupOf(300, 'node', census)).toBe('onnxruntime');
    expect(groupOf(600, 'node', census)).toBe('other');
  });
});

describe('ranJobs and poolSize', () => {
  it('takes the threads that grew by about one job, not the one that grew a little', () => {
    const before = new Map([
      [1, 0],
      [2, 10],
      [3, 5],
      [4, 0],
      [5, 0],
      [6, 0],
    ]);
    // Threads 2-5 ran a 15 ms job (5 ran two), 6 ran a GC slice, 1 is skipped.
    const after = new Map([
      [1, 90],
      [2, 25],
      [3, 19],
      [4, 16],
      [5, 30],
      [6, 3],
    ]);
    // 5 jobs of about 15 ms: 75 ms among the 4 that grew most.
    expect([...ranJobs(before, after, 4, 5, new Set([1]))].sort()).toEqual([2, 3, 4, 5]);
    expect([...ranJobs(before, after, 5, 5, new Set([1]))].sort()).toEqual([2, 3, 4, 5]);
    // All jobs on one thread: the others grew by nothing and do not count.
    const one = new Map([...before].map(([tid, ms]) => [tid, tid === 5 ? ms + 60 : ms]));
    expect([...ranJobs(before, one, 4, 4, new Set())]).toEqual([5]);
    expect(ranJobs(before, before, 4, 4, new Set()).size).toBe(0);
  });

  it('reads UV_THREADPOOL_SIZE as libuv does (default 4, capped at 1024)', () => {
    expect([poolSize({}), poolSize({ UV_THREADPOOL_SIZE: '8' }), poolSize({ UV_THREADPOOL_SIZE: '0' })]).toEqual([
      4, 8, 4,
    ]);
    expect(poolSize({ UV_THREADPOOL_SIZE: '5000' })).toBe(1024);
  });
});

describe.skipIf(threadViewUnavailable() !== undefined)('the sampler and the probe on this process', () => {
  it("samples every thread's CPU from a worker while this thread is busy, and stops when told", async () => {
    const sampler = await startThreadSampler(5, 1000);
    const me = ownTid();
    expect(sampler.samplerTid).not.toBe(me);
    // Busy until this thread has run 100 ms of CPU (a loaded machine stretches the wall time, not the CPU).
    const mine = () => cpuByThread().get(me)!;
    const start = mine();
    const deadline = performance.now() + 20_000;
    while (mine() - start < 100 && performance.now() < deadline);
    const ran = mine() - start;
    const done = await sampler.stop();
    expect(ran).toBeGreaterThanOrEqual(100);
    expect(done.samples.length).toBeGreaterThanOrEqual(2);
    const times = done.samples.map((s) => s.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const cpuOf = (i: number) => {
      const s = done.samples[i]!;
      return s.cpuMs[s.tids.indexOf(me)]!;
    };
    // The last sample came at stop(); the first may come up to an interval (and a late wake-up on a busy machine)
    // after the loop began: between them, all of the loop's CPU but that (CI saw 99.3 of 100.5 ms).
    expect(cpuOf(done.samples.length - 1) - cpuOf(0)).toBeGreaterThanOrEqual(ran - 20);
    // The machine ran at least that too (its counter is in 10 ms ticks per CPU: 20 ms of rounding on 2 cores).
    const machine = done.samples.map((s) => s.machineMs!);
    expect(machine.at(-1)! - machine[0]!).toBeGreaterThanOrEqual(ran - 10 * cpus().length);
    expect(done.comms.get(me)).toBe(readFileSync(`/proc/self/task/${me}/comm`, 'utf8').trim());
    expect(await sampler.stop()).toBe(done);
  });

  it('keeps at most its cap of samples by thinning them', async () => {
    const sampler = await startThreadSampler(1, 4);
    await new Promise((r) => setTimeout(r, 200));
    const done = await sampler.stop();
    expect(done.thinned).toBe(true);
    expect(done.samples.length).toBeLessThanOrEqual(5);
  });

  it("finds libuv's pool threads by the work they run, none of them this thread", async () => {
    const skip = new Set([ownTid()]);
    const pool = await findLibuvPool(skip);
    expect(pool.size).toBeGreaterThanOrEqual(1);
    expect(pool.size).toBeLessThanOrEqual(poolSize());
    expect(pool.has(ownTid())).toBe(false);
    for (const tid of pool) expect(cpuByThread().has(tid)).toBe(true);
  });
});
