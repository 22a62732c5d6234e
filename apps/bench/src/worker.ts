// Runs one benchmark cell in its own process (so peak RSS belongs to that cell) and prints one JSON line.
// Each engine's packages are imported only by the cells that use them: a worker starts in a fraction of the time.
import { buildModel, fanInFill, toOnnx } from '@mobilenet/core';
import { type Cell, type CellResult, fixedInput, modelOptions } from './cell.js';

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
      const s = await ort.InferenceSession.create(toOnnx(model.graph), {
        executionProviders: ['cpu'],
        intraOpNumThreads: cell.threads,
      });
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

async function main(): Promise<void> {
  const cell = JSON.parse(process.argv[2]!) as Cell;
  const r = await runner(cell);
  let out = await r.run();
  for (let i = 1; i < cell.warmup; i++) await r.run(), await r.bare?.();
  const latencies: number[] = [];
  for (let i = 0; i < cell.runs; i++) {
    const t = performance.now();
    out = await r.run();
    latencies.push(performance.now() - t);
  }
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
