// Measurement (not a test): a folder of photos through the whole pipeline, against the model alone and against
// PIL + torchvision on the same files, all in one run so that ratios hold on a busy machine.
// Run: npx tsx --conditions=source apps/bench/src/pipeline.ts [--dir DIR] [--rss-count 10000] [--skip-rss | --rss-only]
//        [--archs v2,v3-small] [--decoders N] [--e2e-threads N] [--only-throughput | --only-decode] [--rounds 4]
//        [--levers] [--json OUT] [--help]
// The folder is the held-out shape of issue #30: 256 JPEGs of 640x480 and 8 of 4000x3000 (generated once).
// --levers: instead, each lever of apps/bench/src/pipeline-levers.ts against inference only, --rounds rounds (3).
// --e2e-threads N: classifyAll's session gets N intra-op threads (e.g. 1, leaving a core to the decodes), while
// inference only stays at 2 threads: the share is still against the best the model does alone.
// --rounds N: decode + preprocess against PIL + torchvision in N interleaved rounds (each a 1/N of the folder);
// --only-decode: that comparison (and shrink-on-load's fidelity) alone, without the end-to-end table.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Arch, type Preprocessing, buildModel, fanInFill, preprocess } from '@mobilenet/core';
import { type BatchStats, type DecodeMode, type NodeSession, createSession, decodeFor } from '@mobilenet/runtime-node';
import { levers } from './pipeline-levers.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    'rss-count': { type: 'string' },
    'skip-rss': { type: 'boolean' },
    'rss-only': { type: 'boolean' },
    decoders: { type: 'string' },
    archs: { type: 'string' },
    'only-throughput': { type: 'boolean' },
    json: { type: 'string' },
    python: { type: 'string' },
    'e2e-threads': { type: 'string' },
    rounds: { type: 'string' },
    'only-decode': { type: 'boolean' },
    levers: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  const lines = readFileSync(import.meta.filename, 'utf8').split('\n');
  const header = lines.slice(
    0,
    lines.findIndex((l) => !l.startsWith('//')),
  );
  console.log(header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const PY = values.python ?? '/usr/bin/python3';
const HELPER = join(import.meta.dirname, 'pipeline.py');
const DIR = values.dir ?? join(os.tmpdir(), 'mobilenet-pipeline-folder');
const RSS_COUNT = Number(values['rss-count'] ?? 10_000);
const THREADS = 2;
const E2E_THREADS = values['e2e-threads'] === undefined ? THREADS : Number(values['e2e-threads']);
const ARCHS = (values.archs ?? 'v2,v3-small').split(',') as Arch[];
const DECODERS = values.decoders === undefined ? undefined : Number(values.decoders);
const ROUNDS = Number(values.rounds ?? 4);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const report: Record<string, unknown> = {};
const log = (s: string) => console.log(s);

/** The held-out shape of issue #30: 256 JPEGs of 640x480 and 8 of 4000x3000 (a folder with more keeps its first ones). */
function folder(): string[] {
  const list = (prefix: string) =>
    existsSync(DIR)
      ? readdirSync(DIR)
          .filter((f) => f.startsWith(prefix) && f.endsWith('.jpg'))
          .sort()
      : [];
  if (list('small-').length < 256 || list('big-').length < 8) {
    log(`generating 256 JPEGs of 640x480 and 8 of 4000x3000 from skimage's photographs in ${DIR} ...`);
    execFileSync(PY, [HELPER, 'generate', DIR, '256', '8'], { stdio: 'inherit' });
  }
  return [...list('small-').slice(0, 256), ...list('big-').slice(0, 8)].map((f) => join(DIR, f));
}

async function endToEnd(session: NodeSession, files: string[], decode: DecodeMode, batch?: number) {
  const stats: BatchStats[] = [];
  const t0 = performance.now();
  let failed = 0;
  for await (const r of session.classifyAll(files, {
    decode,
    ...(batch && { batch }),
    ...(DECODERS && { decoders: DECODERS }),
    onBatch: (s) => stats.push(s),
  }))
    if (!r.ok) failed++;
  const ms = performance.now() - t0;
  if (failed) throw new Error(`${failed} images failed to classify in ${DIR}`);
  const settled = stats.at(-2)?.batch ?? stats.at(-1)!.batch; // the last batch is the remainder
  return { ms, stats, batch: settled };
}

/** One preprocessed batch per session and size, made once: its decodes stay out of the timed (and CPU-counted) runs. */
const batches = new Map<NodeSession, Map<number, Float32Array>>();

async function preparedBatch(session: NodeSession, files: string[], batch: number): Promise<Float32Array> {
  const known = batches.get(session)?.get(batch);
  if (known) return known;
  const pre = session.info.preprocessing;
  const n = 3 * pre.size * pre.size;
  const input = new Float32Array(batch * n);
  for (let i = 0; i < batch; i++)
    preprocess(await decodeFor(files[i % files.length]!, 'x', pre, 'exact'), pre, input, i * n);
  batches.set(session, (batches.get(session) ?? new Map()).set(batch, input));
  return input;
}

/**
 * The same session on already-preprocessed batches: milliseconds and CPU milliseconds for `count` images (whole
 * batches run, scaled to `count`), what the model alone takes.
 */
async function inferenceOnly(session: NodeSession, files: string[], batch: number, count: number) {
  const input = await preparedBatch(session, files, batch);
  const runs = Math.ceil(count / batch);
  const c = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await session.logits(input, batch);
  const scale = count / (runs * batch);
  const u = process.cpuUsage(c);
  return { ms: (performance.now() - t0) * scale, cpu: ((u.user + u.system) / 1000) * scale };
}

/**
 * End to end against inference only, interleaved chunk by chunk (so that a change in the machine's load falls on
 * both), at the batch the automatic sizer settles on for this model on a warm-up run.
 */
async function throughputOf(session: NodeSession, files: string[], mode: DecodeMode, e2eSession = session) {
  const warm = await endToEnd(e2eSession, files.filter((f) => f.includes('small-')).slice(0, 64), mode);
  const batch = warm.batch;
  await inferenceOnly(session, files, batch, batch); // prepares its batch outside the timed chunks
  const chunks = 8;
  let e2eMs = 0;
  let infMs = 0;
  let e2eCpu = 0;
  let infCpu = 0;
  const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  const stats: BatchStats[] = [];
  for (let k = 0; k < chunks; k++) {
    const part = files.filter((_, i) => i % chunks === k);
    const c = process.cpuUsage();
    const e = await endToEnd(e2eSession, part, mode, batch);
    e2eCpu += cpuMs(process.cpuUsage(c));
    e2eMs += e.ms;
    stats.push(...e.stats);
    const inf = await inferenceOnly(session, files, batch, part.length);
    infMs += inf.ms;
    infCpu += inf.cpu;
  }
  const per = (k: keyof BatchStats) => stats.reduce((a, s) => a + s[k], 0) / files.length;
  return {
    batch,
    imagesPerSecond: (1000 * files.length) / e2eMs,
    inferenceImagesPerSecond: (1000 * files.length) / infMs,
    share: infMs / e2eMs,
    // CPU milliseconds per image (all threads): inference alone, and end to end. Where the CPUs are the limit, the
    // best share end to end can reach is their ratio.
    cpuPerImageMs: { inference: infCpu / files.length, endToEnd: e2eCpu / files.length },
    perImageMs: {
      wait: per('waitMs'),
      run: per('runMs'),
      post: per('postMs'),
      decode: per('decodeMs'),
      preprocess: per('preprocessMs'),
    },
  };
}

/**
 * Per file: wall and CPU milliseconds (CPU counts every thread of the process, libvips' included), in all and for
 * the decode alone (file to RGB pixels: ours `decodeFor`, PIL's `Image.open().convert('RGB')`).
 */
type Times = Record<string, { wall: number; cpu: number; decodeWall: number; decodeCpu: number }>;

/** Decode + preprocess one image at a time on this thread (libvips may use its threads inside one decode). */
async function decodePreprocess(files: string[], pre: Preprocessing, mode: DecodeMode): Promise<Times> {
  for (const f of files.slice(0, 2)) preprocess(await decodeFor(f, f, pre, mode), pre);
  const per: Times = {};
  const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  for (const f of files) {
    const c = process.cpuUsage();
    const t0 = performance.now();
    const decoded = await decodeFor(f, f, pre, mode);
    const [decodeWall, decodeCpu] = [performance.now() - t0, cpuMs(process.cpuUsage(c))];
    preprocess(decoded, pre);
    per[f] = { wall: performance.now() - t0, cpu: cpuMs(process.cpuUsage(c)), decodeWall, decodeCpu };
  }
  return per;
}

/** PIL + torchvision on the same files in Debian's Python (one torch thread, as in a DataLoader worker). */
function torchvision(files: string[]): { perFile: Times; torch: string } {
  const list = join(os.tmpdir(), `mobilenet-pipeline-files-${process.pid}.txt`);
  writeFileSync(list, files.join('\n'));
  return JSON.parse(execFileSync(PY, [HELPER, 'torchvision', list], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

/** The three measurements interleaved in chunks, so that a change in the machine's load falls on all of them. */
async function compareDecode(files: string[], pre: Preprocessing) {
  const ours: Times = {};
  const shrink: Times = {};
  const tv: Times = {};
  let torch = '';
  for (let k = 0; k < ROUNDS; k++) {
    const part = files.filter((_, i) => i % ROUNDS === k);
    Object.assign(ours, await decodePreprocess(part, pre, 'exact'));
    Object.assign(shrink, await decodePreprocess(part, pre, 'shrink-on-load'));
    const t = torchvision(part);
    Object.assign(tv, t.perFile);
    torch = t.torch;
  }
  return { ours, shrink, tv, torch };
}

/**
 * Shrink-on-load against exact decode on the images it applies to: top-1 agreement, and the input differences in
 * 8-bit steps (a normalized difference times std x 255), against the half step a resize to 8 bits rounds by.
 */
async function fidelity(session: NodeSession, files: string[]) {
  const pre = session.info.preprocessing;
  let agree = 0;
  let maxProb = 0;
  const maxSteps: number[] = [];
  let sumSteps = 0;
  let count = 0;
  for (const f of files) {
    const [a, b] = await Promise.all(
      (['exact', 'shrink-on-load'] as const).map(async (m) => preprocess(await decodeFor(f, f, pre, m), pre)),
    );
    const plane = a!.length / 3;
    let m = 0;
    for (let i = 0; i < a!.length; i++) {
      const steps = Math.abs(a![i]! - b![i]!) * pre.std[Math.floor(i / plane)]! * 255;
      m = Math.max(m, steps);
      sumSteps += steps;
      count++;
    }
    maxSteps.push(m);
    const ra = await session.logits(a!, 1);
    const rb = await session.logits(b!, 1);
    const soft = (l: Float32Array) => {
      const m = Math.max(...l);
      const e = Array.from(l, (v) => Math.exp(v - m));
      const s = e.reduce((x, y) => x + y, 0);
      return e.map((v) => v / s);
    };
    const [pa, pb] = [soft(ra), soft(rb)];
    if (pa.indexOf(Math.max(...pa)) === pb.indexOf(Math.max(...pb))) agree++;
    for (let i = 0; i < pa.length; i++) maxProb = Math.max(maxProb, Math.abs(pa[i]! - pb[i]!));
  }
  return {
    images: files.length,
    top1Agreement: agree / files.length,
    maxSteps: Math.max(...maxSteps),
    meanSteps: sumSteps / count,
    withinHalfStep: maxSteps.filter((m) => m <= 0.5).length,
    maxProbabilityDiff: maxProb,
  };
}

/** Peak RSS (the process's high-water mark) after 1,000 images and after `count`, classifying the folder cyclically. */
async function rss(files: string[], count: number) {
  const session = await createSession(
    buildModel({ arch: 'v3-small', convention: 'torchvision', weights: fanInFill(0), batch: 'dynamic' }),
    { threads: THREADS, spinning: false },
  );
  function* cycle() {
    for (let i = 0; i < count; i++) yield files[i % files.length]!;
  }
  const peaks: Record<number, number> = {};
  let done = 0;
  const t0 = performance.now();
  for await (const r of session.classifyAll(cycle())) {
    if (!r.ok) throw new Error(r.error);
    if (++done === 1000 || done === count || done % 2000 === 0) {
      peaks[done] = process.resourceUsage().maxRSS / 1024;
      log(
        `  ${String(done).padStart(6)} images: peak RSS ${f1(peaks[done]!)} MiB (${f1(done / ((performance.now() - t0) / 1000))} images/s)`,
      );
    }
  }
  await session.release();
  return { peakMiB: peaks, growth: peaks[count]! / peaks[1000]! - 1 };
}

const files = folder();
const small = files.filter((f) => f.includes('small-'));
const big = files.filter((f) => f.includes('big-'));
const load0 = os.loadavg()[0]!;
log(
  `machine: ${os.cpus()[0]?.model} x${os.cpus().length}, Node ${process.version}; load average at start ${f2(load0)} (other processes share the CPUs: absolute times are inflated, the ratios are measured in one run)`,
);
log(`folder: ${small.length} JPEGs 640x480 + ${big.length} JPEGs 4000x3000 (${DIR})\n`);

if (values.levers) report.levers = await levers(files, ARCHS, Number(values.rounds ?? 3), log);
else if (!values['rss-only']) await throughput();

async function throughput() {
  const onlyDecode = values['only-decode'] === true;
  if (!onlyDecode) {
    log(
      `## End to end (${E2E_THREADS} threads) vs inference only (CPU, ${THREADS} threads, spinning off, classifyAll at the batch its sizer chose on a warm-up run; eight interleaved chunks)\n`,
    );
    log(
      '| model | decode | end to end images/s | inference only images/s | share | CPU ms per image: inference only / end to end (ratio) | batch | per image: decode / preprocess / run / wait ms |',
    );
    log('|---|---|---|---|---|---|---|---|');
  }
  const e2e: Record<string, unknown> = {};
  let v2: NodeSession | undefined;
  for (const arch of ARCHS) {
    const session = await createSession(
      buildModel({ arch, convention: 'torchvision', weights: fanInFill(0), batch: 'dynamic' }),
      { threads: THREADS, spinning: false },
    );
    const e2eSession =
      E2E_THREADS === THREADS
        ? session
        : await createSession(
            buildModel({ arch, convention: 'torchvision', weights: fanInFill(0), batch: 'dynamic' }),
            { threads: E2E_THREADS, spinning: false },
          );
    for (const mode of onlyDecode ? [] : (['exact', 'shrink-on-load'] as const)) {
      const e = await throughputOf(session, files, mode, e2eSession);
      const inf = e.inferenceImagesPerSecond;
      const p = e.perImageMs;
      e2e[`${arch}/${mode}`] = e;
      const cpu = e.cpuPerImageMs;
      log(
        `| ${arch} | ${mode} | ${f1(e.imagesPerSecond)} | ${f1(inf)} | ${Math.round((100 * e.imagesPerSecond) / inf)}% | ${f2(cpu.inference)} / ${f2(cpu.endToEnd)} (${Math.round((100 * cpu.inference) / cpu.endToEnd)}%) | ${e.batch} | ${f2(p.decode)} / ${f2(p.preprocess)} / ${f2(p.run)} / ${f2(p.wait)} |`,
      );
    }
    if (e2eSession !== session) await e2eSession.release();
    if (arch === 'v2') v2 = session;
    else await session.release();
  }
  report.endToEnd = e2e;
  if (values['only-throughput'] || !v2) return void (await v2?.release());

  log(
    '\n## Decode + preprocess per image, one at a time, vs PIL + torchvision (Resize(256), CenterCrop(224), ToTensor, Normalize)\n',
  );
  const pre = v2!.info.preprocessing;
  const { ours, shrink, tv, torch } = await compareDecode(files, pre);
  const avg = (per: Times, set: string[], k: keyof Times[string]) => mean(set.map((f) => per[f]![k]));
  log(
    '| images | ours, exact: CPU / wall ms | ours, shrink-on-load: CPU / wall ms | PIL + torchvision: CPU / wall ms | ours exact / torchvision, CPU | decode alone, CPU ms: ours exact / PIL (ratio) |',
  );
  log('|---|---|---|---|---|---|');
  const rowsOut: Record<string, unknown> = {};
  for (const [label, set] of [
    ['640x480', small],
    ['4000x3000', big],
    ['all 264', files],
  ] as const) {
    const v = (per: Times) => [avg(per, set, 'cpu'), avg(per, set, 'wall')] as const;
    const [a, b, c] = [v(ours), v(shrink), v(tv)];
    const decode = [avg(ours, set, 'decodeCpu'), avg(tv, set, 'decodeCpu')] as const;
    rowsOut[label] = { exact: a, shrinkOnLoad: b, torchvision: c, decodeCpu: { exact: decode[0], pil: decode[1] } };
    log(
      `| ${label} | ${f2(a[0])} / ${f2(a[1])} | ${f2(b[0])} / ${f2(b[1])} | ${f2(c[0])} / ${f2(c[1])} | ${f2(a[0] / c[0])} | ${f2(decode[0])} / ${f2(decode[1])} (${f2(decode[0] / decode[1])}) |`,
    );
  }
  log(`(torchvision ${torch}; ${ROUNDS} interleaved rounds of ours, ours with shrink-on-load, and Python)`);
  report.decodePreprocess = rowsOut;

  log(
    '\n## Shrink-on-load fidelity (v2 with seeded random weights; the 4000x3000 images, the only ones it applies to)\n',
  );
  const fid = await fidelity(v2!, big);
  log(
    `top-1 agreement ${fid.top1Agreement * 100}% of ${fid.images}; input differences in 8-bit steps: largest ${fid.maxSteps.toFixed(2)}, mean ${fid.meanSteps.toFixed(3)}; images whose largest difference is within the half step of a resize's own rounding: ${fid.withinHalfStep} of ${fid.images}; max |probability difference| ${fid.maxProbabilityDiff.toExponential(2)}`,
  );
  report.fidelity = fid;
  await v2!.release();
}

if (!values['skip-rss'] && !values.levers) {
  log(`\n## Peak RSS, v3-small classifyAll over ${RSS_COUNT} images (the folder, cyclically)\n`);
  const r = await rss(files, RSS_COUNT);
  log(
    `peak RSS ${f1(r.peakMiB[1000]!)} MiB after 1,000 images, ${f1(r.peakMiB[RSS_COUNT]!)} MiB after ${RSS_COUNT}: ${r.growth >= 0 ? '+' : ''}${f1(100 * r.growth)}%`,
  );
  report.rss = r;
}
log(`\nload average at end ${f2(os.loadavg()[0]!)}`);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      { machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, load: [load0, os.loadavg()[0]] }, ...report },
      null,
      2,
    ),
  );
