// `pnpm bench`'s options: the help text and the parser; every mistake is a Usage error naming the option.
import { statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ARCHS, type Arch, resolveOptions } from '@mobilenet/core';
import { BACKENDS, PEERS } from './cell.js';
import { PRECISIONS } from './precision.js';

/**
 * The default matrix: v1-v3 and the smallest v4 of each kind (conv, hybrid). The larger v4 models take minutes
 * per engine at 224, which would push the default run past its 3-minute budget; --archs names them.
 */
export const DEFAULT_ARCHS: readonly Arch[] = ['v1', 'v2', 'v3-large', 'v3-small', 'v4-conv-small', 'v4-hybrid-medium'];

/** Where a run without --json or --svg writes its chart and results, relative to the folder it runs in. */
export const DEFAULT_OUT = 'bench-results';

export const HELP = `Usage: pnpm bench [options]

With no options: ${DEFAULT_ARCHS.join(', ')} at width 1, 224x224, batch 1, on onnxruntime-node CPU and onnxruntime-web WASM
(in Node), with the peers (bare onnxruntime-node, TensorFlow.js wasm), 2 threads where the machine has them.
  --archs A,B        ${ARCHS.join(',')}
  --widths W,...     width multipliers (default 1)
  --resolutions R,.. input sizes, multiples of 32 (default 224)
  --batches N,...    batch sizes (default 1)
  --threads N,...    intra-op / WASM threads (default 1 and min(2, cores))
  --backends B,...   ${BACKENDS.join(',')} (webgpu and wasm-browser run in headless Chromium; default cpu,wasm)
  --peers P,...      ${PEERS.join(',')} or none (default ort,tfjs-wasm; tfjs-cpu is slow)
  --runs N           timed runs per cell (default 30)
  --warmup N         untimed runs first (default 5)
  --json FILE        results with machine info; the chart is written next to it (FILE with .svg)
  --svg FILE         the chart of p50 latency vs MACs (default: next to --json, else ${DEFAULT_OUT}/latest.svg
                     with latest.json beside it); its title names the CPU the run measured
  --md FILE          a Markdown table with machine info
  --render FILE      no timing: rewrite the chart (and --md) from the JSON of an earlier run
  --smoke            a seconds-long run that proves the harness works (v3-small at 32x32, 3 runs); not a timing
  --precisions P,... ${PRECISIONS.join(',')} (default fp32 alone, as above). Each model is written as an .onnx file at
                     each precision (fp16: toFloat16; int8: QDQ, calibrated on photographs) and cpu/cuda/wasm time
                     the files alternately in one process on the same input; rows add precision, file size,
                     % of fp32's size and speedup over fp32. e.g. pnpm bench --archs v2,v3-large --threads 2
                     --precisions fp32,fp16,int8 --peers none
  --calibrate DIR    int8 calibration images (at least 8; default: made once by tools/images_split.py from Debian's
                     python3-skimage photographs into the temporary folder)
  --model-dir DIR    where the precision files go (default: mobilenet-bench-models in the temporary folder)
  --pipeline [...]   (first) a folder of photos end to end against the model alone and PIL + torchvision
                     (apps/bench/src/pipeline.ts; its options: --dir, --archs, --skip-rss, --levers, --json)
Exit codes: 0 ok, 1 a backend's output disagreed with CPU or a cell failed, 2 usage error.
`;

export class Usage extends Error {}

function list<T extends string>(
  raw: string | undefined,
  allowed: readonly T[],
  name: string,
  fallback: readonly T[],
): T[] {
  if (raw === undefined) return [...fallback];
  if (raw === 'none') return [];
  const xs = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = xs.filter((x) => !allowed.includes(x as T));
  if (bad.length || !xs.length)
    throw new Usage(`option --${name}: '${bad[0] ?? raw}' is not one of ${allowed.join(', ')}`);
  return xs as T[];
}

function numbers(
  raw: string | undefined,
  name: string,
  fallback: number[],
  check: (n: number) => boolean,
  rule: string,
): number[] {
  if (raw === undefined) return fallback;
  const xs = raw.split(',').map(Number);
  const bad = raw.split(',').find((s, i) => s.trim() === '' || !check(xs[i]!));
  if (bad !== undefined) throw new Usage(`option --${name}: '${bad}' is not ${rule}`);
  return xs;
}

export function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...Object.fromEntries(
        [
          'archs',
          'widths',
          'resolutions',
          'batches',
          'threads',
          'backends',
          'peers',
          'runs',
          'warmup',
          'json',
          'md',
          'svg',
          'render',
          'precisions',
          'calibrate',
          'model-dir',
        ].map((k) => [k, { type: 'string' as const }]),
      ),
      smoke: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const v = values as Record<string, string | boolean | undefined>;
  const s = (k: string) => v[k] as string | undefined;
  const smoke = Boolean(v.smoke);
  const cores = os.cpus().length;
  const int = (n: number) => Number.isInteger(n) && n >= 1;
  const o = {
    help: Boolean(v.help),
    smoke,
    archs: list(s('archs'), ARCHS, 'archs', smoke ? ['v3-small'] : DEFAULT_ARCHS),
    widths: numbers(s('widths'), 'widths', [1], (n) => n > 0 && n <= 4, 'a width in (0, 4]'),
    resolutions: numbers(
      s('resolutions'),
      'resolutions',
      [smoke ? 32 : 224],
      (n) => int(n) && n % 32 === 0,
      'a multiple of 32',
    ),
    batches: numbers(s('batches'), 'batches', [1], int, 'a positive integer'),
    threads: numbers(
      s('threads'),
      'threads',
      smoke ? [1] : [...new Set([1, Math.min(2, cores)])],
      int,
      'a positive integer',
    ),
    backends: list(s('backends'), BACKENDS, 'backends', ['cpu', 'wasm']),
    peers: list(s('peers'), PEERS, 'peers', ['ort', 'tfjs-wasm']),
    runs: numbers(s('runs'), 'runs', [smoke ? 3 : 30], int, 'a positive integer')[0]!,
    warmup: numbers(s('warmup'), 'warmup', [smoke ? 1 : 5], int, 'a positive integer')[0]!,
    json: s('json'),
    md: s('md'),
    svg: s('svg'),
    render: s('render'),
    precisions: s('precisions') === undefined ? undefined : list(s('precisions'), PRECISIONS, 'precisions', []),
    calibrate: s('calibrate'),
    modelDir: s('model-dir') ?? join(os.tmpdir(), 'mobilenet-bench-models'),
  };
  if (o.render !== undefined && !statSync(o.render, { throwIfNoEntry: false })?.isFile())
    throw new Usage(`option --render: '${o.render}' is not a file (the JSON of an earlier run)`);
  if (o.precisions?.length === 0) throw new Usage(`option --precisions: 'none' is not one of ${PRECISIONS.join(', ')}`);
  if (o.calibrate !== undefined) {
    if (!o.precisions?.includes('int8'))
      throw new Usage(`option --calibrate: calibrates int8 files; expected --precisions with int8 as well`);
    if (!statSync(o.calibrate, { throwIfNoEntry: false })?.isDirectory())
      throw new Usage(`option --calibrate: '${o.calibrate}' is not a folder`);
  }
  for (const arch of o.archs)
    for (const width of o.widths) for (const resolution of o.resolutions) resolveOptions({ arch, width, resolution });
  return o;
}

export type Options = ReturnType<typeof parse>;
