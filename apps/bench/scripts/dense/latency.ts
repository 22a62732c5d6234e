// Issue 26's bench rows: SSDLite320, LRASPP and DeepLabV3 (MobileNetV3-Large) on one photograph (skimage's chelsea,
// 451 x 300), batch 1, 2 intra-op threads. Ours (the ONNX our builder writes from torchvision's state_dict, run by
// runtime-node: preprocessing, model, TypeScript postprocessing) against torchvision's own `torch.onnx.export`
// (opset 17) of the same weights in onnxruntime-node, end to end, interleaved run by run (paired; spinning off so the
// sessions do not take each other's cores). The postprocessing is also timed alone; the boxes that survive the
// threshold are counted for both. WASM: runtime-web's onnxruntime-web in Node, end to end.
// Run: /usr/bin/python3 apps/bench/scripts/dense/torchvision_export.py DIR 300 451
//      npx -y pnpm@12.4.2 --filter bench bench:dense DIR [rounds]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildWithWeights,
  type DenseArch,
  defaultBoxes,
  type DetectionMetadata,
  postprocessDetections,
  preprocess,
  readCheckpoint,
  readDetectionMetadata,
  resizeArgmax,
  withGraphPostprocess,
} from '@mobilenet/core';
import { createSession, decodeImage } from '@mobilenet/runtime-node';
import { createSession as createWebSession } from '@mobilenet/runtime-web';
import * as ort from 'onnxruntime-node';
import { cpuOptions } from '../../src/shared/ort-options.js';
import { median } from '../../src/shared/stats.js';

const DIR = process.argv[2] ?? '/tmp/dense-bench';
const ROUNDS = Number(process.argv[3] ?? 20);
const PHOTO = join(import.meta.dirname, '../../../../packages/runtime-web/e2e/fixtures/chelsea.jpg');
const MODELS: [DenseArch, string][] = [
  ['ssdlite320-v3-large', 'ssdlite320_mobilenet_v3_large'],
  ['lraspp-v3-large', 'lraspp_mobilenet_v3_large'],
  ['deeplabv3-v3-large', 'deeplabv3_mobilenet_v3_large'],
];

const image = await decodeImage(PHOTO, 'chelsea.jpg');
const time = async <T>(f: () => Promise<T> | T): Promise<[number, Awaited<T>]> => {
  const t0 = performance.now();
  const r = await f();
  return [performance.now() - t0, r];
};

/** torchvision's SSD takes the image as [3, H, W] floats in [0, 1] and does its own resize and normalisation. */
function unitTensor(): ort.Tensor {
  const { width: w, height: h, data } = image;
  const x = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) x[c * w * h + i] = data[i * 3 + c]! / 255;
  return new ort.Tensor('float32', x, [3, h, w]);
}

const rows: string[] = [];

/**
 * The same SSDLite with its postprocessing in the graph (`export --postprocess graph`): end to end, paired with the
 * raw file + TypeScript postprocessing on CPU, and on WASM; the last column says which path is faster where.
 */
async function graphRow(raw: Parameters<typeof withGraphPostprocess>[0], tsWasm: number) {
  const graph = withGraphPostprocess(raw);
  const cpu = await createSession({ graph }, { threads: 2, spinning: false });
  const rawCpu = await createSession({ graph: raw }, { threads: 2, spinning: false });
  const ms = { graph: [] as number[], ts: [] as number[] };
  for (let i = 0; i < 3; i++) {
    await cpu.detect([image]);
    await rawCpu.detect([image]);
  }
  for (let i = 0; i < ROUNDS; i++)
    for (const k of (i % 2 ? ['graph', 'ts'] : ['ts', 'graph']) as ('graph' | 'ts')[])
      ms[k].push((await time(() => (k === 'graph' ? cpu : rawCpu).detect([image])))[0]);
  const ratio = median(ms.graph.map((g, i) => g / ms.ts[i]!));
  const [kept] = await cpu.detect([image]);
  const web = await createWebSession({ graph });
  const webMs: number[] = [];
  for (let i = 0; i < 2; i++) await web.detect([image]);
  for (let i = 0; i < Math.max(3, ROUNDS >> 2); i++) webMs.push((await time(() => web.detect([image])))[0]);
  await Promise.all([cpu.release(), rawCpu.release(), web.release()]);
  const f = (v: number) => v.toFixed(1);
  const faster = (graphOverTs: number) => (graphOverTs < 1 ? 'graph' : 'TypeScript');
  const row = `| ssdlite320-v3-large, NMS in the graph | ${f(median(ms.graph))} | - | - | - | graph / TypeScript ${ratio.toFixed(2)} (paired) | ${f(median(webMs))} | ${kept?.ok ? kept.detections.length : -1} at 0.001; faster: CPU ${faster(ratio)} (paired), WASM ${faster(median(webMs) / tsWasm)} (medians of separate runs) |`;
  console.error(row);
  return row;
}
for (const [arch, name] of MODELS) {
  const ckpt = readCheckpoint(readFileSync(join(DIR, `${name}.pth`)), `${name}.pth`);
  const graph = buildWithWeights({ arch, batch: 1 }, ckpt, { source: `${name}.pth` }).graph;
  const ours = await createSession({ graph }, { threads: 2, spinning: false });
  const tv = await ort.InferenceSession.create(join(DIR, `${name}.onnx`), cpuOptions({ threads: 2, spinning: false }));
  const detect = arch.startsWith('ssd');
  const pre = ours.info.preprocessing;
  const x = new ort.Tensor('float32', preprocess(image, pre), [1, 3, pre.size, pre.size]);
  const meta = readDetectionMetadata(graph.metadata, arch) as DetectionMetadata;
  const anchors = detect ? defaultBoxes(meta.anchors, meta.grids, meta.inputSize) : new Float32Array(0);
  const runs: Record<'ours' | 'torchvision', () => Promise<unknown>> = {
    ours: () => (detect ? ours.detect([image]) : ours.segment([image])),
    torchvision: async () => {
      if (detect) return tv.run({ image: unitTensor() });
      // The segmenters take the same preprocessing (not in torchvision's model) and the same resize + argmax.
      const t = new ort.Tensor('float32', preprocess(image, pre), [1, 3, pre.size, pre.size]);
      const out = await tv.run({ images: t });
      return resizeArgmax(out.out!.data as Float32Array, 21, pre.size, pre.size, image.height, image.width);
    },
  };
  const ms: Record<keyof typeof runs, number[]> = { ours: [], torchvision: [] };
  for (let i = 0; i < 3; i++) for (const f of Object.values(runs)) await f();
  for (let i = 0; i < ROUNDS; i++)
    for (const k of (i % 2 ? ['ours', 'torchvision'] : ['torchvision', 'ours']) as (keyof typeof runs)[])
      ms[k].push((await time(runs[k]))[0]);
  const ratio = median(ms.ours.map((o, i) => o / ms.torchvision[i]!));
  // The model alone (onnxruntime on the preprocessed tensor) and the postprocessing alone, on its outputs.
  const model: number[] = [];
  const post: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const [tm, out] = await time(() => ours.ortSession.run({ images: x }));
    model.push(tm);
    post.push(
      (
        await time(() =>
          detect
            ? postprocessDetections(
                out.bbox_regression!.data as Float32Array,
                out.cls_logits!.data as Float32Array,
                { anchors, numClasses: 91, inputSize: meta.inputSize },
                [image.height, image.width],
              )
            : resizeArgmax(out.out!.data as Float32Array, 21, pre.size, pre.size, image.height, image.width),
        )
      )[0],
    );
  }
  let boxes = '';
  if (detect) {
    const [mine] = await ours.detect([image]);
    const [half] = await ours.detect([image], { scoreThreshold: 0.5 });
    const theirs = await tv.run({ image: unitTensor() });
    const tvScores = theirs.scores!.data as Float32Array;
    const n = (r: typeof mine) => (r?.ok ? r.detections.length : -1);
    boxes = `ours ${n(mine)} / torchvision ${tvScores.length} at 0.001; ours ${n(half)} / torchvision ${tvScores.filter((s) => s > 0.5).length} at 0.5`;
  }
  const web = await createWebSession({ graph });
  const webRun = (): Promise<unknown> => (detect ? web.detect([image]) : web.segment([image]));
  const webMs: number[] = [];
  for (let i = 0; i < 2; i++) await webRun();
  for (let i = 0; i < Math.max(3, ROUNDS >> 2); i++) webMs.push((await time(webRun))[0]);
  await Promise.all([ours.release(), tv.release(), web.release()]);
  const f = (v: number) => v.toFixed(1);
  rows.push(
    `| ${arch} | ${f(median(ms.ours))} | ${f(median(model))} | ${f(median(post))} | ${f(median(ms.torchvision))} | ${ratio.toFixed(2)} | ${f(median(webMs))} (${web.wasm.threads} thr) | ${boxes || '-'} |`,
  );
  console.error(rows.at(-1));
  if (detect) rows.push(await graphRow(graph, median(webMs)));
}
console.log(
  '| model | ours CPU e2e ms | model ms | postprocess ms | torchvision export CPU e2e ms | ours / torchvision (paired median) | ours WASM e2e ms | boxes kept |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
