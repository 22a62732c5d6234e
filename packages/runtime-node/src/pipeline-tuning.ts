import { availableParallelism } from 'node:os';
import type { BatchStats } from '@mobilenet/core';

/**
 * How a run over many images shares the machine between decoding and the model: the settings fixed when the
 * model's session starts (threads, spinning) and the decodes in flight to begin with, each with the reason, for
 * `--verbose`. See `tunePipeline`.
 */
export interface PipelineTuning {
  /** The model's intra-op threads; undefined leaves onnxruntime's choice (a GPU backend). */
  readonly threads: number | undefined;
  /** onnxruntime's intra-op spinning. */
  readonly spinning: boolean;
  /** Decodes in flight to begin with. */
  readonly decoders: number;
  /** Whether decodes in flight grow while the model waits for them (see `decodersAfter`). */
  readonly adaptive: boolean;
  /** One line per choice: what was chosen and why. */
  readonly reasons: readonly string[];
}

export interface TuningInput {
  readonly backend: string;
  /** How many images the run has. */
  readonly images: number;
  /** Threads the user asked for (kept as asked). */
  readonly threads?: number;
  /** Decodes in flight the user asked for (kept as asked: not adaptive). */
  readonly decoders?: number;
  /** CPUs this process may use (default `os.availableParallelism()`). */
  readonly cores?: number;
}

/** Decodes in flight to begin with: enough that a decode finishing during a run has a successor waiting. */
export const startDecoders = (cores: number) => Math.max(4, 2 * cores);

/**
 * The settings for a run over `images` images. On the CPU backend the decodes and the model share the cores:
 * spinning goes off (a spinning intra-op thread holds a core a decode needs: +8% CPU per image measured on the
 * 264-image folder), the model keeps every core (onnxruntime runs on the JavaScript thread, so one model thread
 * serializes the model with preprocessing: 63% of the cores busy against 86%), and the decodes in flight start at
 * twice the cores and grow while the model waits for them. A GPU backend leaves the CPU to the decodes.
 */
export function tunePipeline(o: TuningInput): PipelineTuning {
  const cores = o.cores ?? availableParallelism();
  const cpu = o.backend === 'cpu';
  const many = o.images > 1;
  const reasons: string[] = [];
  const threads = o.threads ?? (cpu ? cores : undefined);
  reasons.push(
    o.threads !== undefined
      ? `model threads ${o.threads} (--threads)`
      : cpu
        ? `model threads ${cores}: every core (${cores} here); onnxruntime runs on the JavaScript thread, so fewer would serialize the model with preprocessing`
        : `model threads: onnxruntime's choice (${o.backend} runs the model; the CPU decodes)`,
  );
  const spinning = !(cpu && many);
  reasons.push(
    spinning
      ? `spinning on (onnxruntime's default): ${cpu ? 'one image, nothing to share the cores with' : `the model runs on ${o.backend}`}`
      : 'spinning off: decodes share the cores, and a spinning model thread would hold a core a decode needs',
  );
  const decoders = o.decoders ?? startDecoders(cores);
  reasons.push(
    o.decoders !== undefined
      ? `decodes in flight ${o.decoders} (asked)`
      : `decodes in flight ${decoders} to begin with (twice the cores, at least 4), growing by ${cores} while the model waits for them`,
  );
  return { threads, spinning, decoders, adaptive: o.decoders === undefined, reasons };
}

/**
 * Decodes in flight after a batch: `now` plus `step` when the JavaScript thread waited for decodes (beyond its own
 * preprocessing) more than a tenth of the model's run, up to `cap`.
 */
export function decodersAfter(s: BatchStats, now: number, step: number, cap: number): number {
  const waitedForDecodes = s.waitMs - s.preprocessMs;
  return waitedForDecodes > 0.1 * s.runMs && now < cap ? Math.min(cap, now + step) : now;
}
