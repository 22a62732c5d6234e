// Runs one benchmark cell in its own process (so peak RSS belongs to that cell) and prints one JSON line.
// Each engine's packages are imported only by the cells that use them: a worker starts in a fraction of the time.
import { buildModel, fanInFill, toOnnx } from '@mobilenet/core';
import { readFileSync } from 'node:fs';
import { type Cell, type CellResult, type PrecisionTiming, fixedInput, modelOptions } from './cell.js';
import { cpuOptions } from './shared/ort-options.js';

type Runner = {
  run: () => Promise<Float32Array>;
  /** For our Node runtime: a bare run() on the very same onnxruntime session, timed interleaved with ours. */
  bare?: () => Promise<unknown>;
  threads: number;
  release: () => Promise<void>;
};

async function runner(cell: Cell): Promise<Runner> {
  const model = buildModel({ ...modelOptions(cell), weights: fanInFill(0) });
  const x = fixedInput(cell.batch, cell.resolution);
  const r = cell.resolution;
  switch (cell.engine) {
    case 'cpu':
    case 'cuda': {
      const [{ createSession }, ort] = await Promise.all([
        import('@mobilenet/runtime-node'),
        import('onnxruntime-node'),
      ]);
      const s = await createSession(model, { backend: cell.engine, threads: cell.threads });
      const bare = () => s.ortSession.run({ input: new ort.Tensor('float32', x, [cell.batch, 3, r, r]) });
      return { run: () => s.logits(x, cell.batch), bare, threads: cell.threads, release: () => s.release() };
    }
    case 'ort': {
      const ort = await import('onnxruntime-node');
      const s = await ort.InferenceSession.create(toOnnx(model.graph), cpuOptions({ threads: cell.threads }));
      const run = async () => {
        const out = await s.run({ input: new ort.Tensor('float32', x, [cell.batch, 3, r, r]) });
        return out.logits!.data as Float32Array;
      };
      return { run, threads: cell.threads, release: () => s.release() };
    }
    case 'wasm': {
      const { createSession } = await import('@mobilenet/runtime-web');
      const s = await createSession(model, { backend: 'wasm', threads: cell.threads });
      return { run: () => s.logits(x, cell.batch), threads: s.wasm.threads, release: () => s.release() };
    }
    case 'tfjs-wasm':
    case 'tfjs-cpu': {
      const { compile, startTfjs, toNhwc } = await import('./tfjs.js');
      await startTfjs(cell.engine === 'tfjs-wasm' ? 'wasm' : 'cpu', cell.threads);
      const f = compile(model.graph);
      const xt = toNhwc(x, cell.batch, 3, r, r);
      const run = async () => {
        const y = f(xt);
        const data = (await y.data()) as Float32Array;
        y.dispose();
        return data;
      };
      // tfjs's wasm backend runs threads only in browsers with SharedArrayBuffer workers; in Node it is one.
      return { run, threads: 1, release: async () => xt.dispose() };
    }
    default:
      throw new Error(`engine ${cell.engine} does not run in a worker`);
  }
}

/** One session per precision file on the cell's engine. Spinning off on onnxruntime-node: the sessions alternate. */
async function precisionRunners(cell: Cell): Promise<Runner[]> {
  const x = fixedInput(cell.batch, cell.resolution);
  const out: Runner[] = [];
  for (const f of cell.files!) {
    if (cell.engine === 'cpu' || cell.engine === 'cuda') {
      const { createSession } = await import('@mobilenet/runtime-node');
      const s = await createSession(f.path, { backend: cell.engine, threads: cell.threads, spinning: false });
      out.push({ run: () => s.logits(x, cell.batch), threads: cell.threads, release: () => s.release() });
    } else if (cell.engine === 'wasm') {
      const { createSession } = await import('@mobilenet/runtime-web');
      const s = await createSession(readFileSync(f.path), { backend: 'wasm', threads: cell.threads });
      out.push({ run: () => s.logits(x, cell.batch), threads: s.wasm.threads, release: () => s.release() });
    } else throw new Error(`engine ${cell.engine} does not run --precisions`);
  }
  return out;
}

/**
 * Times every precision of a model in rounds: each round runs each file once on the same input, the order rotating
 * by one each round, so that load changes hit every precision alike and no file always follows the same one.
 */
async function timePrecisions(cell: Cell): Promise<CellResult> {
  const rs = await precisionRunners(cell);
  const outs: Float32Array[] = [];
  for (const r of rs) outs.push(await r.run());
  for (let i = 1; i < cell.warmup; i++) for (const r of rs) await r.run();
  const latencies: number[][] = rs.map(() => []);
  for (let i = 0; i < cell.runs; i++)
    for (let k = 0; k < rs.length; k++) {
      const j = (i + k) % rs.length;
      const t = performance.now();
      await rs[j]!.run();
      latencies[j]!.push(performance.now() - t);
    }
  for (const r of rs) await r.release();
  const precisions: PrecisionTiming[] = cell.files!.map((f, j) => ({
    precision: f.precision,
    latencies: latencies[j]!,
    logits: Array.from(outs[j]!.subarray(0, outs[j]!.length / cell.batch)),
  }));
  return {
    latencies: [],
    logits: [],
    precisions,
    threads: rs[0]!.threads,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

async function main(): Promise<void> {
  const cell = JSON.parse(process.argv[2]!) as Cell;
  if (cell.files) return void process.stdout.write(`${JSON.stringify(await timePrecisions(cell))}\n`);
  const r = await runner(cell);
  let out = await r.run();
  for (let i = 1; i < cell.warmup; i++) await r.run(), await r.bare?.();
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < cell.runs; i++) {
    const t = performance.now();
    out = await r.run();
    latencies.push(performance.now() - t);
  }
  const windowMs = performance.now() - start;
  // The wrapper's overhead is a few microseconds against milliseconds: measure it on many interleaved pairs.
  const bareLatencies: number[] = [];
  const oursAgain: number[] = [];
  for (let i = 0; r.bare && i < Math.max(100, cell.runs); i++) {
    let t = performance.now();
    await r.run();
    oursAgain.push(performance.now() - t);
    t = performance.now();
    await r.bare();
    bareLatencies.push(performance.now() - t);
  }
  await r.release();
  const result: CellResult = {
    latencies,
    windowMs,
    ...(r.bare && { bareLatencies, oursInterleaved: oursAgain }),
    logits: Array.from(out.subarray(0, out.length / cell.batch)),
    threads: r.threads,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e: Error) => {
  process.stdout.write(`${JSON.stringify({ error: e.message.split('\n')[0] })}\n`);
  process.exitCode = 3;
});
