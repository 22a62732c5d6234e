// Measurement (not a test): issue #30's levers on the folder pipeline, each against inference only in the same round.
// Run: pnpm bench --pipeline --levers [--dir DIR] [--archs v2,v3-small] [--rounds 3] [--json OUT]
// Each configuration (the model's threads and spinning, decodes in flight, batch) classifies the whole folder once a
// round, in a rotating order, next to a run of the model alone at 2 threads on preprocessed batches: the share is
// end to end images/s over inference-only images/s of that round, and the table gives the median over the rounds.
import os from 'node:os';
import { type Arch, buildModel, fanInFill, preprocess } from '@mobilenet/core';
import { type NodeSession, createSession, decodeFor } from '@mobilenet/runtime-node';

export interface Lever {
  readonly name: string;
  readonly threads: number;
  readonly spinning: boolean;
  readonly decoders?: number;
  readonly batch?: number;
}

/** The configurations compared: today's default first, then one lever moved at a time. */
export const LEVERS: readonly Lever[] = [
  { name: 'batch 16, 2 threads, spinning off, decoders auto', threads: 2, spinning: false, batch: 16 },
  { name: 'spinning on', threads: 2, spinning: true, batch: 16 },
  { name: '1 model thread (a core left to decodes)', threads: 1, spinning: false, batch: 16 },
  { name: 'decoders 4 (fixed)', threads: 2, spinning: false, decoders: 4, batch: 16 },
  { name: 'decoders 16 (fixed)', threads: 2, spinning: false, decoders: 16, batch: 16 },
  { name: 'batch 8', threads: 2, spinning: false, batch: 8 },
  { name: 'batch 4', threads: 2, spinning: false, batch: 4 },
  { name: 'batch timed by the pipeline (BatchSizer)', threads: 2, spinning: false },
];

const BATCH = 16;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function inferenceOnly(session: NodeSession, files: string[], count: number): Promise<number> {
  const pre = session.info.preprocessing;
  const n = 3 * pre.size * pre.size;
  const input = new Float32Array(BATCH * n);
  for (let i = 0; i < BATCH; i++) preprocess(await decodeFor(files[i]!, 'x', pre, 'exact'), pre, input, i * n);
  const runs = Math.ceil(count / BATCH);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await session.logits(input, BATCH);
  return ((performance.now() - t0) * count) / (runs * BATCH);
}

async function endToEnd(session: NodeSession, files: string[], lever: Lever) {
  const c = cpuMs();
  const t0 = performance.now();
  const batches: number[] = [];
  const o = {
    ...(lever.batch && { batch: lever.batch }),
    ...(lever.decoders && { decoders: lever.decoders }),
    onBatch: (s: { batch: number }) => void batches.push(s.batch),
  };
  for await (const r of session.classifyAll(files, o)) if (!r.ok) throw new Error(r.error);
  return { ms: performance.now() - t0, cpu: cpuMs() - c, batches };
}

export async function levers(files: string[], archs: Arch[], rounds: number, log: (s: string) => void) {
  const report: Record<string, unknown> = {};
  log(`\n## Levers (${files.length} images, ${rounds} rounds, median share of the same round's inference only)\n`);
  log('| model | configuration | share | end to end ms/image | CPU ms/image | cores busy |');
  log('|---|---|---|---|---|---|');
  for (const arch of archs) {
    const model = () => buildModel({ arch, convention: 'torchvision', weights: fanInFill(0), batch: 'dynamic' });
    const base = await createSession(model(), { threads: 2, spinning: false });
    const sessions = await Promise.all(
      LEVERS.map((l) => createSession(model(), { threads: l.threads, spinning: l.spinning })),
    );
    for (const [i, s] of sessions.entries()) await endToEnd(s, files.slice(0, 32), LEVERS[i]!);
    const rows = LEVERS.map(() => ({ share: [] as number[], ms: [] as number[], cpu: [] as number[], batches: '' }));
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < LEVERS.length; k++) {
        const i = (k + r) % LEVERS.length;
        const inf = await inferenceOnly(base, files, files.length);
        const e = await endToEnd(sessions[i]!, files, LEVERS[i]!);
        rows[i]!.share.push(inf / e.ms);
        rows[i]!.ms.push(e.ms / files.length);
        rows[i]!.cpu.push(e.cpu / files.length);
        rows[i]!.batches = [...new Set(e.batches)].join('/');
      }
      log(`  (round ${r + 1} of ${rounds} done, load average ${os.loadavg()[0]!.toFixed(2)})`);
    }
    for (const [i, l] of LEVERS.entries()) {
      const x = rows[i]!;
      const [share, ms, cpu] = [median(x.share), median(x.ms), median(x.cpu)];
      report[`${arch}/${l.name}`] = { share: x.share, msPerImage: x.ms, cpuPerImage: x.cpu };
      const name = l.batch ? l.name : `${l.name}: ${x.batches}`;
      log(
        `| ${arch} | ${name} | ${Math.round(100 * share)}% (${x.share.map((s) => Math.round(100 * s)).join(', ')}) | ${ms.toFixed(2)} | ${cpu.toFixed(2)} | ${Math.round((100 * cpu) / ms / os.cpus().length)}% |`,
      );
    }
    for (const s of [base, ...sessions]) await s.release();
  }
  return report;
}
