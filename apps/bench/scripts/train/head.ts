// Benchmark (not a test): issue 27's numbers for 1,000 images in 10 classes. Time to embed them (onnxruntime-node,
// CPU), time to train the head in Node and in headless Chromium (the demo's Web Worker: the same trainHead), peak
// memory, and validation accuracy next to scikit-learn's LogisticRegression on the same embeddings and split.
// Run: pnpm --filter bench bench:train [--base FILE.onnx] [--per-class 100]
// Images: scikit-learn's load_digits (tools/fixtures/image_folders.py, 32x32 PNGs). Base: FILE.onnx (one with an
// 'embedding' output, e.g. `mobilenet export --arch v2 --weights mobilenet_v2-b0353104.pth -o v2.onnx`), else a
// seeded MobileNetV2 (same cost, features of random weights). Needs /usr/bin/python3 with python3-sklearn, and for
// the browser row Chromium and the demo's build (`pnpm --filter demo build`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type TrainHeadOptions, buildModel, fanInFill, stratifiedSplit, toOnnx, trainHead } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';
import { chromiumMissing, launchChromium, servePreview } from '@mobilenet/test-support/chromium';

const { values } = parseArgs({ options: { base: { type: 'string' }, 'per-class': { type: 'string' } } });
const ROOT = resolve(import.meta.dirname, '../../../..');
const PER_CLASS = Number(values['per-class'] ?? 100);
const WD = 1e-3;

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
async function timed<T>(f: () => T | Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c = cpu();
  const t = performance.now();
  const value = await f();
  return { value, wall: (performance.now() - t) / 1000, cpu: cpu() - c };
}

const dir = mkdtempSync(join(tmpdir(), 'bench-train-'));
try {
  const made = spawnSync('/usr/bin/python3', [
    join(ROOT, 'tools/fixtures/image_folders.py'),
    dir,
    '--per-class',
    String(PER_CLASS),
  ]);
  if (made.status !== 0) throw new Error(`image_folders.py: ${made.stderr}`);
  const classes = readdirSync(dir).sort();
  const files = classes.flatMap((c) =>
    readdirSync(join(dir, c))
      .sort()
      .map((f) => join(dir, c, f)),
  );
  const labels = Int32Array.from(classes.flatMap((c, i) => readdirSync(join(dir, c)).map(() => i)));
  const bytes = values.base
    ? readFileSync(values.base)
    : toOnnx(buildModel({ arch: 'v2', embedding: true, batch: 'dynamic', weights: fanInFill(0) }).graph);
  const baseName = values.base ?? 'v2 (seeded, fan-in)';

  // Embedding: one session, every image through the folder pipeline (decode, resize, batch).
  const session = await createSession(bytes, { backend: 'cpu' });
  const emb = await timed(async () => {
    const rows: Float32Array[] = [];
    for await (const r of session.embedAll(files)) {
      if (!r.ok) throw new Error(r.error);
      rows.push(r.embedding.slice());
    }
    return rows;
  });
  await session.release();
  const dim = emb.value[0]!.length;
  const x = new Float32Array(files.length * dim);
  emb.value.forEach((r, i) => {
    x.set(r, i * dim);
  });

  const split = stratifiedSplit(labels, classes.length, 0.15, 0);
  const runs: [string, Omit<TrainHeadOptions, 'embeddings' | 'labels' | 'classes'>][] = [
    ['linear, Adam (defaults: 50 epochs, lr 0.001)', { weightDecay: WD }],
    ['linear, Adam, 100 epochs, lr 0.01', { epochs: 100, lr: 0.01, weightDecay: WD }],
    ['linear, Adam (defaults), standardize', { weightDecay: WD, standardize: true }],
    ['linear, L-BFGS (tol 1e-6)', { optimizer: 'lbfgs', weightDecay: WD }],
    ['mlp 100, Adam (defaults)', { head: 'mlp', weightDecay: WD }],
  ];
  const node = [];
  for (const [name, o] of runs) {
    const r = await timed(() => trainHead({ ...o, embeddings: x, labels, classes }));
    node.push({ name, o, ...r });
  }
  const peakRss = process.resourceUsage().maxRSS * 1024;

  // scikit-learn on the same rows and split: C = 1 / (weightDecay * training rows).
  const bin = join(dir, 'x.f32');
  writeFileSync(bin, new Uint8Array(x.buffer));
  writeFileSync(
    join(dir, 'split.json'),
    JSON.stringify({ n: files.length, labels: [...labels], train: [...split.train], val: [...split.val] }),
  );
  const py = `
import json, sys, time, numpy as np
from sklearn.linear_model import LogisticRegression
s = json.load(open(sys.argv[2])); x = np.fromfile(sys.argv[1], '<f4').reshape(s['n'], -1).astype(np.float64)
y = np.array(s['labels']); tr, va = np.array(s['train']), np.array(s['val'])
m = LogisticRegression(multi_class='multinomial', solver='lbfgs', C=1 / (${WD} * len(tr)), max_iter=10000)
t = time.process_time(); m.fit(x[tr], y[tr]); t = time.process_time() - t
print(json.dumps({'acc': m.score(x[va], y[va]), 'cpu': t}))`;
  const sk = spawnSync('/usr/bin/python3', ['-c', py, bin, join(dir, 'split.json')], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  if (sk.status !== 0) throw new Error(sk.stderr);
  const sklearn = JSON.parse(sk.stdout) as { acc: number; cpu: number };

  // The browser: the demo's Web Worker (its build), the same options and rows; weights compared with Node's.
  const browser: { name: string; wall: number; same: boolean }[] = [];
  const demo = resolve(ROOT, 'apps/demo');
  const why =
    chromiumMissing() ??
    (existsSync(join(demo, 'dist/index.html')) ? null : 'no demo build (pnpm --filter demo build)');
  if (why === null) {
    const { server, url } = await servePreview({ root: demo });
    const b = await launchChromium({ webgpu: false });
    try {
      const page = await b.newPage();
      await page.goto(url);
      for (const n of node) {
        const r = await page.evaluate(
          async ({ o, x, labels, classes }) => {
            const t0 = performance.now();
            type W = { demo: { teach: { trainInWorker(o: object): Promise<{ weights: { W: Float32Array } }> } } };
            const h = await (window as unknown as W).demo.teach.trainInWorker({
              ...o,
              embeddings: new Float32Array(x),
              labels,
              classes,
            });
            return { wall: (performance.now() - t0) / 1000, W: Array.from(h.weights.W) };
          },
          { o: n.o, x: Array.from(x), labels: Array.from(labels), classes },
        );
        browser.push({
          name: n.name,
          wall: r.wall,
          same: Float32Array.from(r.W).every((v, i) => Object.is(v, n.value.weights.W[i])),
        });
      }
    } finally {
      await b.close();
      await server.close();
    }
  }

  const load = (await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `${files.length} images, ${classes.length} classes, base ${baseName}, embedding width ${dim}; load average ${load}`,
  );
  console.log(
    `embed (onnxruntime-node CPU, folder pipeline): ${emb.wall.toFixed(1)} s wall, ${emb.cpu.toFixed(1)} s CPU, ${(files.length / emb.wall).toFixed(1)} images/s`,
  );
  console.log(
    '\n| head | Node wall | Node CPU | Chromium (Web Worker) wall | same weights | val accuracy | scikit-learn |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const n of node) {
    const c = browser.find((b) => b.name === n.name);
    console.log(
      `| ${n.name} | ${n.wall.toFixed(2)} s | ${n.cpu.toFixed(2)} s | ${c ? `${c.wall.toFixed(2)} s` : `not run (${why})`} | ${c ? (c.same ? 'bit for bit' : 'NO') : '-'} | ${(100 * n.value.valAccuracy).toFixed(2)}% | ${(100 * sklearn.acc).toFixed(2)}% |`,
    );
  }
  console.log(
    `\nscikit-learn LogisticRegression fit: ${sklearn.cpu.toFixed(2)} s CPU. Node peak RSS (whole run, embedding included): ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
