import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * Per-thread CPU time of this process, sampled from /proc on a worker thread: the JavaScript thread is blocked inside
 * onnxruntime's run for a whole batch, so a timer on it would see nothing during the runs (`mobilenet profile
 * --pipeline`, issue 30). Linux only; elsewhere the thread view is unavailable and says why.
 */

/** The fields of one `/proc/<pid>/task/<tid>/stat` line that a timeline needs. */
export interface TaskStat {
  readonly tid: number;
  /** The thread's name (`comm`, at most 15 bytes): it may hold spaces and parentheses. */
  readonly comm: string;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
  /** When the thread started, in clock ticks after boot. */
  readonly startTicks: number;
}

/**
 * Linux's USER_HZ: what `stat` counts CPU time in. It is 100 on every architecture Node runs on (the kernel's own HZ
 * is hidden behind it), and Node cannot call sysconf(_SC_CLK_TCK).
 */
export const TICK_MS = 10;

/**
 * Parses one stat line. The name sits in parentheses and may itself hold ') (' and spaces, so the fields after it
 * are found from the last ')': field 3 (state) follows it, utime and stime are fields 14 and 15, starttime 22.
 * Written without imports: the sampler's worker runs its source text (see samplerSource).
 */
export function parseTaskStat(line: string): TaskStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 1 || close < open) return undefined;
  const tid = Number(line.slice(0, open));
  const rest = line.slice(close + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const start = Number(rest[19]);
  if (!(tid > 0 && utime >= 0 && stime >= 0 && start >= 0)) return undefined;
  return { tid, comm: line.slice(open + 1, close), cpuTicks: utime + stime, startTicks: start };
}

/** `schedstat`'s first field: nanoseconds on a CPU, finer than stat's 10 ms ticks. Milliseconds, or NaN. */
export function parseSchedstat(text: string): number {
  const ns = Number(text.split(' ')[0]);
  return ns >= 0 ? ns / 1e6 : Number.NaN;
}

/**
 * `/proc/stat`'s first line: every CPU's busy time since boot, in ms (user, nice, system, irq, softirq and steal; guest
 * time is already inside user and nice). Minus this process's threads, it is what other processes took. Or undefined.
 */
export function parseMachineStat(text: string): number | undefined {
  const line = text.slice(0, text.indexOf('\n') >>> 0);
  if (!line.startsWith('cpu ')) return undefined;
  const f = line.slice(4).trim().split(/ +/).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return f.length >= 4 && f.every((x) => x >= 0) ? busy * 10 : undefined;
}

/**
 * One sample: when (this thread's `performance.now()`, halfway through the reads), each living thread's CPU so far
 * (ms), and the whole machine's busy CPU so far (ms, 10 ms ticks) where /proc/stat can be read.
 */
export interface ThreadSample {
  readonly t: number;
  readonly tids: readonly number[];
  readonly cpuMs: readonly number[];
  readonly machineMs?: number;
}

export interface ThreadSamples {
  /** The sampler's own thread, shown apart: what watching cost. */
  readonly samplerTid: number;
  /** 'schedstat' (ns) where the kernel has it, else 'stat' (10 ms ticks). */
  readonly clock: 'schedstat' | 'stat';
  readonly samples: readonly ThreadSample[];
  /** Each thread's name, as last read. */
  readonly comms: ReadonlyMap<number, string>;
  /** Whether samples were thinned to stay under the cap (every other one dropped, the interval doubled). */
  readonly thinned: boolean;
}

export interface ThreadSampler {
  readonly samplerTid: number;
  /** Stops sampling (a last sample is taken) and returns the samples on this thread's clock. */
  stop(): Promise<ThreadSamples>;
}

/** Why the thread view cannot work here, or undefined when it can. */
export function threadViewUnavailable(platform: string = process.platform): string | undefined {
  if (platform !== 'linux') return `per-thread CPU needs Linux's /proc (this is ${platform})`;
  if (!existsSync('/proc/thread-self/stat')) return '/proc/thread-self/stat cannot be read';
  return undefined;
}

interface WorkerData {
  readonly control: SharedArrayBuffer;
  readonly intervalMs: number;
  readonly maxSamples: number;
}

type FromWorker =
  | { readonly kind: 'ready'; readonly tid: number }
  | {
      readonly kind: 'done';
      readonly clock: 'schedstat' | 'stat';
      readonly timeOrigin: number;
      readonly samples: ThreadSample[];
      readonly comms: [number, string][];
      readonly thinned: boolean;
    };

/** What the worker keeps between samples. */
interface SamplerState {
  readonly fs: typeof import('node:fs');
  readonly clock: 'schedstat' | 'stat';
  readonly parse: typeof parseTaskStat;
  readonly parseMachine: typeof parseMachineStat;
  /** Each thread's name, read when it is first seen. */
  readonly comms: Map<number, string>;
  /** Files kept open and read again from offset 0 (one pread each): opening ~20 files per sample cost 3x the CPU. */
  readonly fds: Map<number, number>;
  readonly machineFd: number;
  readonly buf: Buffer;
}

/** One sample of every thread of this process, and of the machine. Runs in the worker, from its source text. */
function sampleOnce(st: SamplerState): ThreadSample {
  const { fs, buf } = st;
  const t0 = performance.now();
  const tids: number[] = [];
  const cpuMs: number[] = [];
  for (const name of fs.readdirSync('/proc/self/task')) {
    const tid = Number(name);
    try {
      if (!st.comms.has(tid)) st.comms.set(tid, fs.readFileSync(`/proc/self/task/${name}/comm`, 'utf8').trim());
      let fd = st.fds.get(tid);
      if (fd === undefined) st.fds.set(tid, (fd = fs.openSync(`/proc/self/task/${name}/${st.clock}`, 'r')));
      const text = buf.toString('latin1', 0, fs.readSync(fd, buf, 0, buf.length, 0));
      const ms =
        st.clock === 'schedstat' ? Number(text.split(' ')[0]) / 1e6 : (st.parse(text)?.cpuTicks ?? Number.NaN) * 10;
      if (ms >= 0) {
        tids.push(tid);
        cpuMs.push(ms);
      }
    } catch {
      // The thread ended between the listing and the read: its file is closed below.
    }
  }
  for (const [tid, fd] of st.fds)
    if (!tids.includes(tid)) {
      fs.closeSync(fd);
      st.fds.delete(tid);
    }
  const machineMs =
    st.machineFd >= 0
      ? st.parseMachine(buf.toString('latin1', 0, fs.readSync(st.machineFd, buf, 0, buf.length, 0)))
      : undefined;
  const t = (t0 + performance.now()) / 2;
  return machineMs === undefined ? { t, tids, cpuMs } : { t, tids, cpuMs, machineMs };
}

/**
 * The worker's loop, run from its source text (the worker gets no module graph). Bounded: at most `maxSamples`
 * samples are kept (past that every other one is dropped and the interval doubles), and it ends when `control[0]`
 * is set. Sleeping in Atomics.wait lets stop() wake it at once.
 */
function samplerMain(
  parse: typeof parseTaskStat,
  parseMachine: typeof parseMachineStat,
  sample: typeof sampleOnce,
  require: (id: string) => unknown,
): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fs = require('node:fs') as typeof import('node:fs');
  const data = workerData as WorkerData;
  const control = new Int32Array(data.control);
  const self = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  const clock: SamplerState['clock'] = fs.existsSync(`/proc/self/task/${self}/schedstat`) ? 'schedstat' : 'stat';
  let machineFd = -1;
  try {
    machineFd = fs.openSync('/proc/stat', 'r');
  } catch {
    // No machine-wide view: the samples say nothing of other processes.
  }
  const st: SamplerState = {
    fs,
    clock,
    parse,
    parseMachine,
    machineFd,
    comms: new Map(),
    fds: new Map(),
    buf: Buffer.alloc(512),
  };
  const samples: ThreadSample[] = [];
  let interval = data.intervalMs;
  let thinned = false;
  parentPort?.postMessage({ kind: 'ready', tid: self });
  for (let stopping = false; !stopping; ) {
    stopping = Atomics.load(control, 0) !== 0;
    samples.push(sample(st));
    if (samples.length >= data.maxSamples) {
      for (let i = 0; 2 * i < samples.length; i++) samples[i] = samples[2 * i]!;
      samples.length = Math.ceil(samples.length / 2);
      interval *= 2;
      thinned = true;
    }
    if (!stopping) Atomics.wait(control, 0, 0, interval);
  }
  for (const fd of st.fds.values()) fs.closeSync(fd);
  if (machineFd >= 0) fs.closeSync(machineFd);
  // Names are read again at the end: a thread may name itself after it starts (the first read saw its parent's).
  for (const tid of st.comms.keys()) {
    try {
      st.comms.set(tid, fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim());
    } catch {
      // It has ended: its first name stays.
    }
  }
  const timeOrigin = performance.timeOrigin;
  parentPort?.postMessage({ kind: 'done', clock, timeOrigin, samples, comms: [...st.comms], thinned });
}

/**
 * The worker's source: the functions' text, with esbuild's `__name` helper (tsx keeps function names with it)
 * defined as a no-op so that the text runs outside the module it was compiled in.
 */
function samplerSource(): string {
  const parts = { parseTaskStat, parseMachineStat, sampleOnce };
  const defs = Object.entries(parts).map(([name, f]) => `const ${name} = ${f.toString()};`);
  const call = `(${samplerMain.toString()})(parseTaskStat, parseMachineStat, sampleOnce, require);`;
  return ['const __name = (f) => f;', ...defs, call, ''].join('\n');
}

/**
 * Starts sampling every `intervalMs` (at most `maxSamples` kept). Resolves once the worker has taken its first
 * sample and said which thread it is, so that the caller can tell it apart.
 */
export async function startThreadSampler(intervalMs = 5, maxSamples = 20000): Promise<ThreadSampler> {
  const why = threadViewUnavailable();
  if (why) throw new Error(why);
  const control = new SharedArrayBuffer(4);
  const data: WorkerData = { control, intervalMs, maxSamples };
  const worker = new Worker(samplerSource(), { eval: true, workerData: data });
  const messages: FromWorker[] = [];
  const waiters: ((m: FromWorker) => void)[] = [];
  const failed = new Promise<never>((_, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the thread sampler ended early (exit ${code})`)));
  });
  failed.catch(() => undefined);
  worker.on('message', (m: FromWorker) => (waiters.length > 0 ? waiters.shift()?.(m) : messages.push(m)));
  const next = () =>
    Promise.race([messages.length > 0 ? messages.shift()! : new Promise<FromWorker>((r) => waiters.push(r)), failed]);
  const ready = await next().catch(async (e: unknown) => {
    await worker.terminate();
    throw e;
  });
  if (ready.kind !== 'ready') throw new Error('the thread sampler did not start');
  let stopped: Promise<ThreadSamples> | undefined;
  const stop = async (): Promise<ThreadSamples> => {
    Atomics.store(new Int32Array(control), 0, 1);
    Atomics.notify(new Int32Array(control), 0);
    const done = await next();
    await worker.terminate();
    if (done.kind !== 'done') throw new Error('the thread sampler did not finish');
    // Its clock starts with the worker: shift onto this thread's performance.now().
    const shift = done.timeOrigin - performance.timeOrigin;
    return {
      samplerTid: ready.tid,
      clock: done.clock,
      samples: done.samples.map((s) => ({ ...s, t: s.t + shift })),
      comms: new Map(done.comms),
      thinned: done.thinned,
    };
  };
  // Once: a second call (a finally after the first) gets the same answer.
  return { samplerTid: ready.tid, stop: () => (stopped ??= stop()) };
}

/** The calling thread's id (from /proc/thread-self), or the process id where there is no /proc. */
export function ownTid(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return process.pid;
  }
}

/** The threads alive now, from stat (name, CPU in ticks, start). */
export function listThreads(): TaskStat[] {
  const out: TaskStat[] = [];
  for (const name of readdirSync('/proc/self/task')) {
    try {
      const s = parseTaskStat(readFileSync(`/proc/self/task/${name}/stat`, 'utf8'));
      if (s) out.push(s);
    } catch {
      // Ended meanwhile.
    }
  }
  return out;
}

/** Each living thread's CPU so far (ms): from schedstat where the kernel has it, else stat's ticks. */
export function cpuByThread(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc/self/task')) {
    try {
      const sched = `/proc/self/task/${name}/schedstat`;
      const ms = existsSync(sched)
        ? parseSchedstat(readFileSync(sched, 'utf8'))
        : (parseTaskStat(readFileSync(`/proc/self/task/${name}/stat`, 'utf8'))?.cpuTicks ?? Number.NaN) * TICK_MS;
      if (ms >= 0) out.set(Number(name), ms);
    } catch {
      // Ended meanwhile.
    }
  }
  return out;
}
