// `mobilenet serve`: the Open Inference Protocol (KServe v2) over HTTP with dynamic batching, for .onnx files or
// a Triton model repository (what `export --triton` writes), through @mobilenet/serve's server.
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { DEFAULT_MAX_PIXELS } from '@mobilenet/runtime-node';
import {
  DEFAULT_SERVER_OPTIONS,
  type ServedModel,
  type ServerOptions,
  readRepository,
  sessionModel,
  startServer,
} from '@mobilenet/serve';
import { parse } from '../args.js';
import { optionError, quote } from '../errors.js';
import type { Io } from '../io.js';
import { between, integer } from '../numbers.js';
import { openSession } from '../session.js';

const D = DEFAULT_SERVER_OPTIONS;

export const SERVE_HELP = `Usage: mobilenet serve MODEL.onnx... [options]
       mobilenet serve --repo REPO [options]

Serves models over HTTP with the Open Inference Protocol (KServe v2 REST, as Triton does): GET /v2,
/v2/health/live, /v2/health/ready, /v2/models/M[/versions/V][/ready], POST /v2/models/M[/versions/V]/infer,
Triton's binary tensor data and classification extensions, and Prometheus metrics at GET /metrics. Send the model's
tensor (FP32 as JSON or binary, FP16 as binary), or encoded images (JPEG, PNG, WebP) as a BYTES input named
'image', preprocessed here with the model's own metadata. A model file is served under its file name without
.onnx; --repo serves every model of a Triton repository (REPO/NAME/config.pbtxt, REPO/NAME/<version>/model.onnx).
SIGTERM or Ctrl-C stops accepting, answers every accepted request, then exits 0.

  --repo REPO              a Triton model repository (its max_batch_size, max_queue_delay_microseconds and
                           label_filename apply unless the options below say otherwise)
  --host H                 address to listen on (default ${D.host}: this machine only)
  --port P                 port, 0 for any free one (default ${D.port})
  --max-batch B            rows run at once, 1-1024; 1 turns dynamic batching off (default ${D.maxBatch})
  --max-queue-delay-us U   how long a request waits for others to batch with (default ${D.maxQueueDelayUs})
  --max-queue N            requests waiting per model; more answer 503 with Retry-After (default ${D.maxQueue})
  --timeout-ms T           each request's whole time: body, queue, run; 408/504 past it (default ${D.timeoutMs})
  --max-body BYTES         largest request body (default ${D.maxBodyBytes}); larger: 413, before reading it
  --max-pixels N           largest image decoded, in pixels (default ${DEFAULT_MAX_PIXELS}, as classify)
  --threads N              onnxruntime intra-op threads per model (default: the CPUs less one, at least 1: the
                           server decodes images while the model runs, and on 2 cores a model on both wastes
                           about half the CPU fighting the decoders; docs/benchmarks.md)
  --token TOKEN            require 'Authorization: Bearer TOKEN' on every endpoint but /v2/health/*
                           (or set MOBILENET_SERVE_TOKEN, which ps does not show)
  --cors ORIGIN            allow browsers at ORIGIN ('*' for any) to call; default: no CORS headers
  --quiet                  no access log (default: one JSON line per request on stdout)
`;

const OPTIONS = {
  help: { type: 'boolean' },
  repo: { type: 'string', expects: 'a Triton model repository folder' },
  host: { type: 'string', expects: 'an address to listen on' },
  port: { type: 'string', expects: 'an integer from 0 to 65535' },
  'max-batch': { type: 'string', expects: 'an integer from 1 to 1024' },
  'max-queue-delay-us': { type: 'string', expects: 'an integer from 0 to 10000000' },
  'max-queue': { type: 'string', expects: 'an integer from 1 to 100000' },
  'timeout-ms': { type: 'string', expects: 'an integer from 1 to 3600000' },
  'max-body': { type: 'string', expects: 'an integer from 1024 to 2147483647' },
  'max-pixels': { type: 'string', expects: 'an integer from 1 to 4294967296' },
  threads: { type: 'string', expects: 'an integer from 1 to 256' },
  token: { type: 'string', expects: 'a bearer token' },
  cors: { type: 'string', expects: "an origin (https://example.com) or '*'" },
  quiet: { type: 'boolean' },
} as const;

/** The model files or the repository, as models to open: name, file, labels and batching. */
function modelsToOpen(files: string[], repo: string | undefined) {
  if (repo !== undefined && files.length > 0)
    throw optionError('argument MODEL', 'model files or --repo, not both', `both (${quote(files[0]!)} and --repo)`);
  if (repo === undefined && files.length === 0)
    throw optionError('argument MODEL', 'at least one .onnx file, or --repo REPO', 'none');
  if (repo !== undefined) return readRepository(repo).map((m) => ({ ...m, path: m.onnxPath }));
  const names = new Set<string>();
  return files.map((path) => {
    const name = basename(path).replace(/\.onnx$/i, '');
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..')
      throw optionError('argument MODEL', 'a file whose name (without .onnx) is letters, digits, _ . -', quote(path));
    if (names.has(name)) throw optionError('argument MODEL', 'files with different names', `${quote(name)} twice`);
    names.add(name);
    return { name, version: '1', path, labels: undefined, maxBatch: undefined, maxQueueDelayUs: undefined };
  });
}

export async function serve(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS, true);
  if (values.help) return (io.out(SERVE_HELP), 0);
  const maxBatch = integer('max-batch', values['max-batch'], between(1, 1024));
  const maxQueueDelayUs = integer('max-queue-delay-us', values['max-queue-delay-us'], between(0, 10_000_000));
  const threads = integer('threads', values.threads, between(1, 256)) ?? Math.max(1, availableParallelism() - 1);
  const maxPixels = integer('max-pixels', values['max-pixels'], between(1, 2 ** 32)) ?? DEFAULT_MAX_PIXELS;
  const token = values.token ?? process.env.MOBILENET_SERVE_TOKEN;
  if (token !== undefined && token.trim() === '') throw optionError('--token', 'a non-empty bearer token', "''");
  const options: Partial<ServerOptions> = {
    ...(values.host !== undefined && { host: values.host }),
    port: integer('port', values.port, between(0, 65535)) ?? D.port,
    maxQueue: integer('max-queue', values['max-queue'], between(1, 100_000)) ?? D.maxQueue,
    timeoutMs: integer('timeout-ms', values['timeout-ms'], between(1, 3_600_000)) ?? D.timeoutMs,
    maxBodyBytes: integer('max-body', values['max-body'], between(1024, 2 ** 31 - 1)) ?? D.maxBodyBytes,
    ...(token !== undefined && { token }),
    ...(values.cors !== undefined && { cors: values.cors }),
    log: values.quiet ? () => {} : (line) => io.out(`${line}\n`),
  };
  const wanted = modelsToOpen(positionals, values.repo);
  const models: ServedModel[] = [];
  for (const m of wanted) {
    const session = await openSession(
      m.path,
      // Spinning off: a spinning intra-op thread would steal the CPU the decoders need between runs.
      { name: m.path, threads, spinning: false, ...(m.labels && { labels: m.labels }), maxPixels },
      'serve runs on the cpu backend',
    );
    const batching = {
      ...(m.maxBatch !== undefined && { maxBatch: m.maxBatch }),
      ...(m.maxQueueDelayUs !== undefined && { maxQueueDelayUs: m.maxQueueDelayUs }),
      ...(maxBatch !== undefined && { maxBatch }),
      ...(maxQueueDelayUs !== undefined && { maxQueueDelayUs }),
    };
    models.push(await sessionModel(session, { name: m.name, version: m.version, maxPixels, batching }));
  }
  const server = await startServer(models, options);
  io.out(
    `${JSON.stringify({ time: new Date().toISOString(), event: 'listening', url: server.url, models: models.map((m) => `${m.name}/${m.version}`) })}\n`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  io.out(`${JSON.stringify({ time: new Date().toISOString(), event: 'draining', signal })}\n`);
  await server.close();
  for (const m of models) await m.release();
  io.out(`${JSON.stringify({ time: new Date().toISOString(), event: 'stopped' })}\n`);
  return 0;
}
