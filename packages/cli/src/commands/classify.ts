import { type ClassifyResult, buildModel } from '@mobilenet/core';
import { type NodeSessionOptions, NODE_BACKENDS, createSession } from '@mobilenet/runtime-node';
import { MODEL_HELP, MODEL_OPTIONS, initialiser, integerOption, modelOptions, parse } from '../args.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { Progress } from '../progress.js';

export const CLASSIFY_HELP = `Usage: mobilenet classify IMAGE... (--model FILE.onnx | --arch A [model options]) [options]

Top-k ImageNet classes for each image (JPEG, PNG, WebP, AVIF, TIFF, GIF), on onnxruntime-node.
  --model FILE        an .onnx file (ours: preprocessing read from its metadata; foreign: torchvision's)
  --arch A            build the model instead (seeded random weights: the labels carry no meaning)
  --seed N            weight seed with --arch (default 0)
  --backend B         ${NODE_BACKENDS.join('|')} (default cpu)
  --fallback          if the backend cannot start, use cpu and say why
  --threads N         intra-op threads
  --top K             classes per image (default 5)
  --json              one JSON array: [{image, ok, top: [{index, label, probability}] | error}]

${MODEL_HELP}
`;

const CHUNK = 16;

export async function classify(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...MODEL_OPTIONS, model: { type: 'string' }, backend: { type: 'string' }, fallback: { type: 'boolean' },
    threads: { type: 'string' }, top: { type: 'string' }, json: { type: 'boolean' }, seed: { type: 'string' },
  }, true);
  if (values.help) return io.out(CLASSIFY_HELP), 0;
  if (positionals.length === 0) throw new UsageError('classify needs at least one IMAGE');
  const backend = (values.backend as string | undefined) ?? 'cpu';
  if (!NODE_BACKENDS.includes(backend as never)) throw new UsageError(`option --backend: '${backend}' is not one of ${NODE_BACKENDS.join(', ')}`);
  const top = integerOption('top', values.top as string | undefined, 1) ?? 5;
  const threads = integerOption('threads', values.threads as string | undefined, 1);
  if (!values.model === !values.arch) throw new UsageError('give exactly one of --model FILE.onnx or --arch A');
  const source = values.model
    ? (values.model as string)
    : buildModel({ ...modelOptions(values), weights: initialiser(values, 'fan-in'), batch: 'dynamic' });
  const options: NodeSessionOptions = { backend: backend as NodeSessionOptions['backend'], fallback: Boolean(values.fallback), ...(threads && { threads }) };
  const session = await createSession(source, options);
  if (session.fallbackReason) io.err(`mobilenet classify: using cpu: ${session.fallbackReason}\n`);
  if (values.arch) io.err('mobilenet classify: --arch builds seeded random weights; the labels carry no meaning\n');
  const results: ClassifyResult[] = [];
  const progress = new Progress(io, positionals.length, 'classify');
  try {
    for (let i = 0; i < positionals.length; i += CHUNK) {
      const chunk = positionals.slice(i, i + CHUNK);
      results.push(...(await session.classify(chunk, { topK: top })));
      progress.tick(chunk.length);
    }
  } finally {
    progress.finish();
    await session.release();
  }
  if (values.json) io.out(`${JSON.stringify(results, null, 2)}\n`);
  else io.out(table(results));
  const failed = results.filter((r) => !r.ok);
  for (const f of failed) if (!f.ok) io.err(`mobilenet classify: ${f.error}\n`);
  return failed.length ? 1 : 0;
}

function table(results: readonly ClassifyResult[]): string {
  const rows: string[][] = [['image', '#', 'prob', 'class', 'label']];
  for (const r of results) {
    if (!r.ok) continue;
    r.top.forEach((p, k) => rows.push([k === 0 ? r.image : '', String(k + 1), p.probability.toFixed(4), String(p.index), p.label]));
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd()).join('\n')}\n`;
}
