// Runs inside the scratch project, against the installed tarballs (plain npm, no workspace): what a user's
// `import` gets. Prints one JSON object for tools/pack-check.mjs to compare with the workspace and the CLI.
import { createHash } from 'node:crypto';
import { analyze, buildModel, fromOnnx, summarizeOnnx, toOnnx } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';
import * as tools from '@mobilenet/tools';

const [modelPath, imagePath] = process.argv.slice(2);
if (!modelPath || !imagePath) throw new Error('usage: node consumer.mjs MODEL.onnx IMAGE');

// core: build, export, analyze, read back.
const { graph } = buildModel({ arch: 'v3-small', width: 0.75, convention: 'torchvision', weights: 42 });
const bytes = toOnnx(graph, { opset: 17, batch: 'dynamic' });
const { macs, params } = analyze(graph);
const back = fromOnnx(bytes, 'v3-small-0.75.onnx');
const summary = summarizeOnnx(bytes);

// runtime-node: classify an image with the model the installed `mobilenet export` wrote.
const session = await createSession(modelPath, { backend: 'cpu' });
const [result] = await session.classify([imagePath], { topK: 5 });
await session.release();

// tools: the fidelity of logits against themselves (identical: every image agrees, nothing differs).
const logits = [Float32Array.from({ length: 10 }, (_, i) => Math.sin(i))];
const same = tools.fidelity(logits, logits);

// runtime-web is importable in Node too (onnxruntime-web's package root); browsers are tested in apps/demo.
const web = await import('@mobilenet/runtime-web');

console.log(
  JSON.stringify({
    sha256: createHash('sha256').update(bytes).digest('hex'),
    macs,
    params,
    readBackNodes: back.graph.nodes.length,
    builtNodes: graph.nodes.length,
    summaryOpset: summary.opset,
    classify: result,
    webExports: Object.keys(web).sort(),
    toolsExports: Object.keys(tools).sort(),
    toolsFidelity: { images: same.images, top1Agreement: same.top1Agreement, maxAbsDiff: same.maxAbsDiff },
  }),
);
