import { type BatchStats, type PipelineTuning, tunePipeline } from '@mobilenet/runtime-node';
import type { Io } from './io.js';

export const VERBOSE_OPTION = { verbose: { type: 'boolean' } } as const;

export const VERBOSE_HELP = `  --verbose           say how the run shares the cores (model threads, spinning, decodes in flight, batch) and
                      why, and after the run what was measured (decode vs model time per image, cores busy)`;

/**
 * The automatic settings of a run over `images` images on `backend` (see tunePipeline), said on stderr with
 * --verbose before the run.
 */
export function tuneRun(
  io: Io,
  command: string,
  o: { backend: string; images: number; threads: number | undefined; verbose: boolean },
): PipelineTuning {
  const t = tunePipeline({ backend: o.backend, images: o.images, ...(o.threads && { threads: o.threads }) });
  if (o.verbose) for (const r of t.reasons) io.err(`mobilenet ${command}: ${r}\n`);
  return t;
}

/** What a run measured of itself, batch by batch, for --verbose's closing lines. */
export class RunMeter {
  private readonly stats: BatchStats[] = [];
  private readonly cpu0 = process.cpuUsage();
  private readonly t0 = performance.now();

  readonly onBatch = (s: BatchStats): void => void this.stats.push(s);

  /**
   * Lines saying what the run measured: time per image in each stage, the CPU split between the model and the rest
   * (the model's share taken as its run time x its threads, which a model on `threads` CPU threads spends at most),
   * decodes in flight and cores busy. `threads` is undefined for a GPU backend (no CPU split then).
   */
  summary(cores: number, threads: number | undefined): string[] {
    const images = this.stats.reduce((a, s) => a + s.images, 0);
    if (images === 0) return ['measured: no batch ran'];
    const per = (k: 'decodeMs' | 'preprocessMs' | 'runMs' | 'waitMs') =>
      this.stats.reduce((a, s) => a + s[k], 0) / images;
    const wallMs = performance.now() - this.t0;
    const u = process.cpuUsage(this.cpu0);
    const cpu = (u.user + u.system) / 1000 / images;
    const [decode, pre, run] = [per('decodeMs'), per('preprocessMs'), per('runMs')];
    const waited = Math.max(0, per('waitMs') - pre);
    const sizes = [...new Set(this.stats.map((s) => s.batch))].join(', ');
    const d = this.stats.map((s) => s.decoders).filter((x) => x > 0);
    const f = (x: number) => x.toFixed(2);
    const model = threads === undefined ? undefined : Math.min(cpu, run * threads);
    return [
      `measured: ${images} images in ${this.stats.length} batches (sizes ${sizes}), ${f(wallMs / images)} ms per image, ${Math.round((100 * cpu * images) / wallMs / cores)}% of ${cores} cores busy`,
      `measured: per image the model ran ${f(run)} ms; a decode took ${f(decode)} ms from start to pixels (waiting for a core included), preprocessing ${f(pre)} ms; the JavaScript thread waited ${f(waited)} ms for decodes`,
      model === undefined
        ? `measured: ${f(cpu)} ms of CPU per image (decoding, preprocessing and driving the ${this.stats.length} runs)`
        : `measured: ${f(cpu)} ms of CPU per image: the model at most ${f(model)}, decoding, preprocessing and the rest at least ${f(cpu - model)} (decode:inference ${f((cpu - model) / Math.max(model, 1e-9))} or more; mobilenet profile --pipeline splits it by thread)`,
      `measured: decodes in flight ${d.length ? `${d[0]} to begin with, ${d.at(-1)} at the end` : 'not bounded'}`,
    ];
  }
}
