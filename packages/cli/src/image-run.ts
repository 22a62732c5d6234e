import { createHash } from 'node:crypto';
import { backendNames } from '@mobilenet/runtime-node';
import type { Skipped } from './collection.js';
import { EXIT, optionError, quote, quotePath } from './errors.js';
import type { Io } from './io.js';
import { isWeightsName } from './pretrained.js';
import { Progress } from './progress.js';

/** What `classify` and `embed` run: a pretrained name, a model file, or a model built from --arch. */
export type ModelSource =
  | { readonly kind: 'named'; readonly name: string }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'arch'; readonly arch: string };

/** The --backend of an image command (cpu when not given), refused when this build has no such backend. */
export function backendOption(value: string | undefined) {
  const backend = backendNames().find((b) => b === (value ?? 'cpu'));
  if (backend === undefined) throw optionError('--backend', `one of ${backendNames().join(', ')}`, quote(value!));
  return backend;
}

/** Exactly one of --model (a pretrained name first, else a file) and --arch. */
export function modelSource(values: { readonly model?: string; readonly arch?: string }): ModelSource {
  if ((values.model === undefined) === (values.arch === undefined))
    throw optionError(
      '--model/--arch',
      'exactly one of --model FILE.onnx or --arch A',
      values.model === undefined ? 'neither' : 'both',
    );
  if (values.model === undefined) return { kind: 'arch', arch: values.arch! };
  return isWeightsName(values.model) ? { kind: 'named', name: values.model } : { kind: 'file', file: values.model };
}

/** What a results file records of the model that made it: its name as given and a hash of the bytes that ran. */
export const modelRecord = (name: string, bytes: Uint8Array) =>
  ({ name, sha256: createHash('sha256').update(bytes).digest('hex') }) as const;

/** Paths that could not be listed, one line each; the run goes on without them. */
export function reportSkipped(io: Io, command: string, skipped: readonly Skipped[]): void {
  for (const s of skipped) io.err(`mobilenet ${command}: ${quotePath(s.path)}: skipped, ${s.reason}\n`);
}

/** One image's result, as classify and embed give it. */
type ImageResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** How a streamed run ended: results taken, how many of them failed, and the signal that stopped it if one did. */
export interface StreamEnd {
  readonly done: number;
  readonly failed: number;
  readonly stop?: NodeJS.Signals;
}

/**
 * Takes each result as it comes (`take`), with a progress bar, naming each failure as it comes. SIGINT and SIGTERM
 * stop the run after the result in hand, so that what was written stays whole. `end` runs after the last result
 * (even when stopped), `close` whatever happened (files first, then the session).
 */
export async function streamResults<R extends ImageResult>(
  results: () => AsyncIterable<R>,
  o: {
    readonly io: Io;
    readonly command: string;
    readonly total: number;
    readonly take: (r: R) => void;
    readonly end?: () => void;
    readonly close: () => Promise<void>;
  },
): Promise<StreamEnd> {
  const { io, command } = o;
  let stop: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => void (stop = s);
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const progress = new Progress(io, o.total, command);
  let done = 0;
  let failed = 0;
  try {
    for await (const r of results()) {
      o.take(r);
      done++;
      if (!r.ok) {
        failed++;
        io.err(`${io.isTty ? '\n' : ''}mobilenet ${command}: ${r.error}\n`);
      }
      progress.tick(1);
      if (stop) break;
    }
    o.end?.();
  } finally {
    progress.finish();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await o.close();
  }
  return { done, failed, ...(stop && { stop }) };
}

/** The exit code of a run stopped by a signal. */
export const signalExit = (stop: NodeJS.Signals): number => (stop === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);

/** The closing count of failures, when there were any: "N of M failed (named above)". */
export const failedCount = (bad: number, total: number): string => `${bad} of ${total} failed (named above)`;
