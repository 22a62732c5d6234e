// Benchmark (not a test): `mobilenet serve` under load on loopback. 32 clients, each sending one JPEG per request
// (the BYTES 'image' input, binary data extension, top-5 by the classification extension) to v3-small 224, as fast
// as answers come; against the same images through `session.classifyAll` in one process. Reports throughput, the
// served share of the in-process rate (goal >= 85%), p50/p99 latency, the mean batch size (Triton's
// nv_inference_count / nv_inference_exec_count from /metrics), dynamic batching on vs off (--max-batch 1), and the
// server's RSS every 1/10 of the requests (flat or not). Bounded: --requests per mode (default 2000), 10 minutes.
// Run: pnpm --filter bench bench:serve [--requests 20000] [--clients 32]
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel, fanInFill, toOnnx } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';
import sharp from 'sharp';

const { values } = parseArgs({
  options: {
    requests: { type: 'string' },
    clients: { type: 'string' },
    threads: { type: 'string' },
    modes: { type: 'string' },
    delay: { type: 'string' },
  },
});
const REQUESTS = Number(values.requests ?? 2000);
const CLIENTS = Number(values.clients ?? 32);
const THREADS = Number(values.threads ?? 2);
const MODES = (values.modes ?? 'batched,off').split(',');
const DELAY_US = Number(values.delay ?? 2000);
const DEADLINE = performance.now() + 10 * 60_000;
const ROOT = join(import.meta.dirname, '../../../..');
const BIN = join(ROOT, 'packages/cli/src/bin.ts');
const MiB = (n: number) => (n / 2 ** 20).toFixed(1);

/** 16 distinct JPEGs of a typical photo size (500x375, quality 90), crops of runtime-node's test photo. */
async function jpegs(): Promise<Buffer[]> {
  const src = readFileSync(join(ROOT, 'packages/runtime-node/test/fixtures/scene.jpg'));
  return Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      sharp(src)
        .extract({ left: i * 4, top: i * 3, width: 320 - 64, height: 240 - 48 })
        .resize(500, 375)
        .jpeg({ quality: 90 })
        .toBuffer(),
    ),
  );
}

function body(jpeg: Buffer): { data: Buffer; header: string } {
  const len = Buffer.alloc(4);
  len.writeUInt32LE(jpeg.length);
  const header = JSON.stringify({
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: jpeg.length + 4 } }],
    outputs: [{ name: 'logits', parameters: { classification: 5 } }],
  });
  return { data: Buffer.concat([Buffer.from(header), len, jpeg]), header };
}

function startServer(model: string, extra: string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=source',
        BIN,
        'serve',
        model,
        '--port',
        '0',
        '--quiet',
        '--threads',
        String(THREADS),
        ...extra,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /"url":"([^"]+)"/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on('close', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 1/100 s). */
const cpuOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const metric = (text: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)![1]);
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function served(model: string, images: Buffer[], extra: string[]) {
  const { child, url } = await startServer(model, extra);
  const bodies = images.map(body);
  const latencies: number[] = [];
  const rss: string[] = [];
  let next = 0;
  let failures = 0;
  const cpu0 = cpuOf(child.pid!);
  const client0 = selfCpu();
  const started = performance.now();
  const client = async () => {
    while (next < REQUESTS && performance.now() < DEADLINE) {
      const i = next++;
      const b = bodies[i % bodies.length]!;
      const t = performance.now();
      const r = await fetch(`${url}/v2/models/model/infer`, {
        method: 'POST',
        body: b.data as BodyInit,
        headers: { 'Inference-Header-Content-Length': String(b.header.length) },
      });
      await r.arrayBuffer();
      if (r.status !== 200) failures++;
      latencies.push(performance.now() - t);
      if ((i + 1) % Math.max(1, Math.floor(REQUESTS / 10)) === 0) rss.push(`${i + 1}: ${MiB(rssOf(child.pid!))}`);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = (performance.now() - started) / 1000;
  const serverCpu = cpuOf(child.pid!) - cpu0;
  const clientCpu = selfCpu() - client0;
  const text = await (await fetch(`${url}/metrics`)).text();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('close', r));
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failures,
    perSecond: latencies.length / seconds,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    meanBatch: metric(text, 'nv_inference_count') / metric(text, 'nv_inference_exec_count'),
    perServerCpuSecond: latencies.length / serverCpu,
    clientCpuShare: clientCpu / (clientCpu + serverCpu),
    rssMiB: rss,
  };
}

async function inProcess(model: string, images: Buffer[]) {
  // Spinning off, as the server runs: on a shared machine spinning threads only steal from the decoders.
  const session = await createSession(model, { threads: THREADS, spinning: false });
  const n = Math.min(REQUESTS, 2000);
  const sources = Array.from({ length: n }, (_, i) => images[i % images.length]!);
  const started = performance.now();
  const cpu0 = selfCpu();
  let done = 0;
  for await (const r of session.classifyAll(sources, { batch: 32 })) {
    if (!r.ok) throw new Error(r.error);
    done++;
  }
  const perSecond = done / ((performance.now() - started) / 1000);
  const perCpuSecond = done / (selfCpu() - cpu0);
  await session.release();
  return { images: done, perSecond, perCpuSecond };
}

const dir = mkdtempSync(join(os.tmpdir(), 'serve-load-'));
try {
  const model = join(dir, 'model.onnx');
  writeFileSync(
    model,
    toOnnx(buildModel({ arch: 'v3-small', convention: 'torchvision', weights: fanInFill(0) }).graph, {
      batch: 'dynamic',
    }),
  );
  const images = await jpegs();
  console.log(
    `machine: ${os.cpus()[0]?.model} x${os.cpus().length}, Node ${process.version}, load average before: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `v3-small 224, 16 JPEGs 500x375, ${CLIENTS} clients, ${REQUESTS} requests per mode, onnxruntime threads ${THREADS}`,
  );
  const base = await inProcess(model, images);
  console.log(
    `in process: classifyAll (batch 32) ${base.perSecond.toFixed(1)} images/s, ${base.perCpuSecond.toFixed(1)} per CPU-second, over ${base.images} images`,
  );
  const results: Record<string, unknown> = { inProcess: base };
  for (const mode of MODES) {
    const extra =
      mode === 'off' ? ['--max-batch', '1'] : ['--max-batch', '32', '--max-queue-delay-us', String(DELAY_US)];
    const r = await served(model, images, extra);
    results[mode] = r;
    console.log(
      `served, batching ${mode === 'off' ? 'off (--max-batch 1)' : `on (--max-batch 32, --max-queue-delay-us ${DELAY_US})`}: ${r.perSecond.toFixed(1)} images/s ` +
        `(${((100 * r.perSecond) / base.perSecond).toFixed(0)}% of in-process), p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, ` +
        `mean batch ${r.meanBatch.toFixed(1)}, ${r.perServerCpuSecond.toFixed(1)} per server CPU-second ` +
        `(${((100 * r.perServerCpuSecond) / base.perCpuSecond).toFixed(0)}% of in-process), clients' share of the CPU ` +
        `${(100 * r.clientCpuShare).toFixed(0)}%, ${r.failures} failures, server RSS MiB at ${r.rssMiB.join(', ')}`,
    );
  }
  console.log(
    `load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(JSON.stringify(results));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
