import { MobileNetError, escapeControls } from '@mobilenet/core';
import { backends, BACKENDS_HELP } from './commands/backends.js';
import { classify, CLASSIFY_HELP } from './commands/classify.js';
import { compare, COMPARE_HELP } from './commands/compare.js';
import { exportModel, EXPORT_HELP } from './commands/export.js';
import { info, INFO_HELP } from './commands/info.js';
import { EXIT, UsageError, quote } from './errors.js';
import { type Io, processIo } from './io.js';
import { closest } from './parse.js';
import { version } from './version.js';

export { UsageError, EXIT } from './errors.js';
export { type Io, writeFileAtomic } from './io.js';

type Command = (argv: string[], io: Io) => number | Promise<number>;

// A Map, not an object literal: `mobilenet __proto__` or `mobilenet toString` must be an unknown command.
const COMMANDS = new Map<string, { run: Command; summary: string; help: string }>([
  ['info', { run: info, summary: 'per-layer MACs/params table of a model or an ONNX file', help: INFO_HELP }],
  ['export', { run: exportModel, summary: 'write a model as an ONNX file', help: EXPORT_HELP }],
  ['classify', { run: classify, summary: 'top-k ImageNet classes of images (onnxruntime-node)', help: CLASSIFY_HELP }],
  [
    'compare',
    { run: compare, summary: 'how closely one model follows another on a folder of images', help: COMPARE_HELP },
  ],
  ['backends', { run: backends, summary: 'which backends work here, and why not', help: BACKENDS_HELP }],
  [
    'embed',
    {
      run: (a, io) => import('./commands/embed.js').then((m) => m.embed(a, io)),
      summary: 'embeddings of images or folders to .npy/.safetensors (onnxruntime-node)',
      help: 'Run mobilenet embed --help',
    },
  ],
  [
    'detect',
    {
      run: (a, io) => import('./commands/detect.js').then((m) => m.detect(a, io)),
      summary: 'SSD boxes of images or folders, drawn on copies with --draw (onnxruntime-node)',
      help: 'Run mobilenet detect --help',
    },
  ],
  [
    'segment',
    {
      run: (a, io) => import('./commands/segment.js').then((m) => m.segment(a, io)),
      summary: 'a class per pixel of images or folders: PNG masks and overlays (onnxruntime-node)',
      help: 'Run mobilenet segment --help',
    },
  ],
  [
    'profile',
    {
      run: (a, io) => import('./commands/profile.js').then((m) => m.profile(a, io)),
      summary: 'share of time vs share of MACs per layer and op type (onnxruntime profiler)',
      help: 'Run mobilenet profile --help',
    },
  ],
  [
    'serve',
    {
      run: (a, io) => import('./commands/serve.js').then((m) => m.serve(a, io)),
      summary: 'serve models over HTTP: Open Inference Protocol (KServe v2), dynamic batching, /metrics',
      help: 'Run mobilenet serve --help',
    },
  ],
  [
    'worker',
    {
      run: (a, io) => import('./commands/worker.js').then((m) => m.worker(a, io)),
      summary: 'take chunks of images from a fleet queue (Redis) and run them',
      help: 'Run mobilenet worker --help',
    },
  ],
  [
    'queue',
    {
      run: (a, io) => import('./commands/fleet.js').then((m) => m.queueCommand(a, io)),
      summary: "a fleet queue's status; collect a run's results",
      help: 'Run mobilenet queue --help',
    },
  ],
  [
    'weights',
    {
      run: (a, io) => import('./commands/weights.js').then((m) => m.weights(a, io)),
      summary: 'pretrained names: list them (size, accuracy, cached?), fetch them for offline use',
      help: 'Run mobilenet weights --help',
    },
  ],
  [
    'train',
    {
      run: (a, io) => import('./commands/train.js').then((m) => m.train(a, io)),
      summary: 'train a classifier head on a folder of class folders; one .onnx out (onnxruntime-node)',
      help: 'Run mobilenet train --help',
    },
  ],
]);

export const HELP = `Usage: mobilenet <command> [options]
       mobilenet --version

Commands:
${[...COMMANDS].map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join('\n')}

Run 'mobilenet <command> --help' for a command's options. Exit codes: 0 ok, 1 failure, 2 usage error.
`;

/** Core's option errors in the CLI's words: `option width` becomes `option --width`, `option topK` `option --top`. */
function asUsage(e: MobileNetError): string {
  const where = e.where.replace(
    /^option (\w[\w-]*)/,
    (_, n: string) => `option --${n === 'topK' ? 'top' : n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
  );
  return `${where}: expected ${e.expected}, received ${e.received}`;
}

/**
 * The last guard on what reaches a terminal: escape sequences and other control characters (ESC[2J clears the
 * screen, ESC]52 writes the clipboard) are shown as \uXXXX; line feeds, carriage returns (the progress bar) and tabs
 * pass. Names are quoted where they are printed; this catches any that a message did not.
 */
function guarded(io: Io): Io {
  const clean = (t: string) =>
    t.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => escapeControls(c));
  return { out: (t) => io.out(clean(t)), err: (t) => io.err(clean(t)), isTty: io.isTty };
}

/** Runs the CLI; returns the exit code. Usage errors (and invalid model options) exit 2 with one line. */
export async function main(argv: string[], raw: Io = processIo): Promise<number> {
  const io = guarded(raw);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help')
    return (io.out(HELP), name ? EXIT.ok : EXIT.usage);
  if (name === '--version' || name === '-v') return (io.out(`${version()}\n`), EXIT.ok);
  const command = COMMANDS.get(name);
  if (!command) {
    const near = closest(name, [...COMMANDS.keys()]);
    io.err(
      `mobilenet: unknown command ${quote(name)}; expected one of ${[...COMMANDS.keys()].join(', ')}${near ? ` (did you mean ${near}?)` : ''}\n`,
    );
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) return (io.err(`mobilenet ${name}: ${e.message}\n`), EXIT.usage);
    if (e instanceof MobileNetError && e.code === 'option')
      return (io.err(`mobilenet ${name}: ${asUsage(e)}\n`), EXIT.usage);
    io.err(`mobilenet ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failure;
  }
}
