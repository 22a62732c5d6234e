import { availableParallelism, cpus } from 'node:os';
import type { Graph } from '@mobilenet/core';
import type { ImageInput } from '@mobilenet/runtime-node';
import { timelineChart } from '@mobilenet/tools';
import { quotePath } from '../errors.js';
import { type Io, writeFileAtomic } from '../io.js';
import { type PipelineTimeline, recordPipeline } from '../pipeline-timeline.js';
import { Progress } from '../progress.js';
import { chartNotes, formatSummary } from '../timeline-report.js';
import { type PipelineSummary, groupSeries, summarize, usageOf } from '../timeline-summary.js';

/** `mobilenet profile --pipeline DIR`: the folder pipeline as a timeline, its summary, and a chart (issue 30). */

export interface PipelineProfileOptions {
  readonly dir: string;
  readonly threads?: number;
  readonly batch?: number;
  readonly runs: number;
  readonly svg?: string;
  readonly json: boolean;
}

/** Fewer images than this make a short timeline dominated by start-up (said, not refused). */
const FEW_IMAGES = 10;

function chart(graph: Graph, tl: PipelineTimeline, s: PipelineSummary, machine: string): string {
  const series = tl.threads ? groupSeries(tl.threads) : undefined;
  return timelineChart({
    title: `${graph.name}: the folder pipeline on ${machine}`,
    notes: chartNotes(s),
    images: tl.images,
    runs: tl.batches.map((b) => ({ start: b.runStart, end: b.runEnd, images: b.batch })),
    // About 400 steps across the chart's 960 px: single 10 ms samples would only add jitter.
    ...(series && { usage: usageOf(series, 0, tl.wallMs, tl.wallMs / 400) }),
    usageMissing: `per-thread CPU unavailable: ${tl.threadsMissing ?? 'no samples'}`,
    cores: tl.cores,
    wallMs: tl.wallMs,
  });
}

export async function profilePipeline(
  bytes: Uint8Array,
  graph: Graph,
  files: readonly ImageInput[],
  o: PipelineProfileOptions,
  io: Io,
): Promise<number> {
  const cores = availableParallelism();
  const machine = `${cpus()[0]?.model.trim() || 'an unknown CPU'}, ${cores} cores`;
  if (files.length < FEW_IMAGES)
    io.err(
      `mobilenet profile: warning: only ${files.length} image${files.length === 1 ? '' : 's'} in ${o.dir}: the timeline is mostly start-up; ${FEW_IMAGES} or more show the steady state\n`,
    );
  const progress = new Progress(io, files.length, 'profile');
  const tl = await recordPipeline(bytes, files, {
    ...(o.threads && { threads: o.threads }),
    ...(o.batch && { batch: o.batch }),
    runs: o.runs,
    cores,
    onResult: () => progress.tick(),
  });
  progress.finish();
  const s = summarize(tl);
  if (o.svg) {
    const file = `${o.svg}-timeline.svg`;
    await writeFileAtomic(file, new TextEncoder().encode(chart(graph, tl, s, machine)));
    io.err(`mobilenet profile: wrote ${file}\n`);
  }
  if (o.json) {
    io.out(
      `${JSON.stringify({ model: graph.name, machine: { cpu: cpus()[0]?.model.trim() ?? '', cores }, summary: s, timeline: tl }, null, 2)}\n`,
    );
    return 0;
  }
  const head = `${graph.name}, the folder pipeline over ${quotePath(o.dir)} on ${machine}${o.threads ? `, ${o.threads} intra-op threads` : ''}`;
  io.out(formatSummary(s, head, tl.threadsMissing));
  return 0;
}
