import {
  type Analysis,
  analyze,
  buildModel,
  escapeControls,
  formatAnalysis,
  fromOnnx,
  readConfig,
  summarizeOnnx,
} from '@mobilenet/core';
import { MODEL_OPTIONS, modelHelp, modelOptions, parse } from '../args.js';
import { optionError, quote } from '../errors.js';
import type { Io } from '../io.js';
import { readModelFile } from '../model-file.js';

export const INFO_HELP = `Usage: mobilenet info --arch A [model options] [--json] [--all]
       mobilenet info FILE.onnx [--json] [--all]

Per-layer table (name, op, output shape, params, MACs) and totals, for a model we build or any ONNX file.
  --json   one JSON object: arch, width, resolution, params, macs, layers[{name, op, outputShape, params, macs}]
  --all    list every node, not only those with parameters or MACs

${modelHelp('FILE.onnx')}
`;

const M = (n: number, d = 2) => (n / 1e6).toFixed(d);

function layersJson(a: Analysis) {
  return a.layers.map((l) => ({ name: l.name, op: l.op, outputShape: l.outputShape, params: l.params, macs: l.macs }));
}

export function info(argv: string[], io: Io): number {
  const { values, positionals } = parse(
    argv,
    { ...MODEL_OPTIONS, json: { type: 'boolean' }, all: { type: 'boolean' } },
    true,
  );
  if (values.help) return (io.out(INFO_HELP), 0);
  if (positionals.length > 1)
    throw optionError(
      'argument FILE',
      'one ONNX file',
      `${positionals.length}: ${positionals
        .slice(0, 3)
        .map((p) => quote(p))
        .join(', ')}${positionals.length > 3 ? ', ...' : ''}`,
    );
  const file = positionals[0];
  if (file !== undefined) {
    const modelOption = Object.keys(MODEL_OPTIONS).find((k) => k !== 'allow-large' && k in values);
    if (modelOption)
      throw optionError(`--${modelOption}`, 'either model options or an ONNX file', `both (file ${quote(file)})`);
    return infoFile(file, Boolean(values.json), Boolean(values.all), io);
  }
  const { graph, config } = buildModel({ ...modelOptions(values), weights: null });
  const a = analyze(graph);
  if (values.json) {
    io.out(
      `${JSON.stringify({ ...config, name: graph.name, params: a.params, buffers: a.buffers, macs: a.macs, layers: layersJson(a) }, null, 2)}\n`,
    );
    return 0;
  }
  io.out(
    `${graph.name}  (${config.arch}, width ${config.width}, ${config.resolution}x${config.resolution}, ${config.classes} classes, ${config.convention} convention)\n\n`,
  );
  io.out(`${formatAnalysis(a, { all: Boolean(values.all) })}\n\n`);
  io.out(
    `params ${a.params.toLocaleString('en-US')} (${M(a.params)} M), MACs ${a.macs.toLocaleString('en-US')} (${M(a.macs, 1)} M), BN statistics ${a.buffers.toLocaleString('en-US')}\n`,
  );
  return 0;
}

function infoFile(file: string, json: boolean, all: boolean, io: Io): number {
  const bytes = readModelFile(file);
  const summary = summarizeOnnx(bytes, file);
  const config = readConfig(summary.metadata, file);
  if (summary.unsupportedOps.length > 0) {
    if (json)
      io.out(`${JSON.stringify({ file, ...config, summary, params: null, macs: null, layers: null }, null, 2)}\n`);
    else {
      io.out(
        `${escapeControls(file)}: opset ${summary.opset}, IR ${summary.irVersion}, ${summary.nodeCount} nodes, ${summary.initializerCount} initializers (${summary.constantElements.toLocaleString('en-US')} elements)\n`,
      );
      io.out(
        `ops: ${Object.entries(summary.ops)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}\n`,
      );
      io.out(`per-layer analysis unavailable: unsupported ops ${summary.unsupportedOps.join(', ')}\n`);
    }
    return 0;
  }
  const { graph, opset, irVersion, producer } = fromOnnx(bytes, file);
  const a = analyze(graph);
  const input = graph.inputs[0];
  if (json) {
    io.out(
      `${JSON.stringify({ file, arch: config.arch ?? null, width: config.width ?? null, resolution: config.resolution ?? input?.type.shape[2] ?? null, ...config, opset, irVersion, producer, params: a.params, buffers: a.buffers, macs: a.macs, layers: layersJson(a) }, null, 2)}\n`,
    );
    return 0;
  }
  io.out(
    `${escapeControls(file)}: ${escapeControls(graph.name) || '(unnamed graph)'}, opset ${opset}, IR ${irVersion}, producer ${quote(producer)}\n`,
  );
  io.out(
    `inputs ${graph.inputs.map((v) => `${v.name} [${v.type.shape.join(', ')}]`).join(', ')}; outputs ${graph.outputs.map((v) => `${v.name} [${v.type.shape.join(', ')}]`).join(', ')}\n\n`,
  );
  io.out(`${formatAnalysis(a, { all })}\n\n`);
  io.out(
    `params ${a.params.toLocaleString('en-US')} (${M(a.params)} M), MACs ${a.macs.toLocaleString('en-US')} (${M(a.macs, 1)} M)\n`,
  );
  return 0;
}
