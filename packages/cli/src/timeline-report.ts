import { GROUP_NOTES, type ThreadGroup } from './thread-groups.js';
import { OTHER_PROCESSES, type PipelineSummary, type SeriesGroup } from './timeline-summary.js';

/** The summary of `mobilenet profile --pipeline` in words and numbers a person can act on. */

const ms = (x: number) => x.toFixed(1);
const pct = (x: number) => `${Math.round(100 * x)}%`;

/** Which gap is bigger: idle cores (scheduling) or CPU added per image (arithmetic). */
export function verdict(s: PipelineSummary): string {
  const scheduling = Math.max(0, s.ceiling - s.share);
  const arithmetic = 1 - s.ceiling;
  const added =
    s.inference.cpuPerImage !== undefined
      ? ` (${ms(s.pipelineCpuPerImage - s.inference.cpuPerImage)} ms of CPU per image beyond inference's ${ms(s.inference.cpuPerImage)})`
      : '';
  const others = s.othersBusy !== undefined ? ` and other processes ${pct(s.othersBusy)}` : '';
  const first =
    `the pipeline kept ${pct(s.coresBusy)} of the cores busy${others}: ${pct(scheduling)} of inference-only throughput ` +
    `is lost to cores it did not use (scheduling: ${pct(s.share)} reached of ${pct(s.ceiling)} possible), ` +
    `${pct(arithmetic)} to the CPU the pipeline adds${added}`;
  const which =
    scheduling > arithmetic
      ? 'the bigger gap is scheduling: keep the cores busy (decode ahead, overlap the runs)'
      : `the bigger gap is arithmetic: even with every core busy this CPU per image allows ${pct(s.ceiling)}, so less CPU per image (cheaper decodes, preprocessing, fewer allocations for GC) is what helps`;
  const shared =
    s.othersBusy !== undefined && s.othersBusy >= 0.1
      ? `; other processes took ${pct(s.othersBusy)} of the cores, so measure again on a quiet machine before blaming the scheduling`
      : '';
  return `${first}; ${which}${shared}`;
}

function groupLines(s: PipelineSummary): string[] {
  if (!s.cpuPerImage) return [];
  const rows = Object.entries(s.cpuPerImage) as [SeriesGroup, number][];
  const line = (name: string, v: number, note: string) => `  ${name.padEnd(16)}${ms(v).padStart(8)}  ${note}`;
  const ours = (g: SeriesGroup): g is ThreadGroup => g !== OTHER_PROCESSES;
  const others =
    s.othersBusy !== undefined ? `the rest of the machine (/proc/stat): ${pct(s.othersBusy)} of the cores` : '';
  return [
    `CPU per image by thread group (ms), over the pipeline's ${ms(s.wallMs)} ms:`,
    ...rows.filter(([g]) => ours(g) && g !== 'sampler').map(([g, v]) => line(g, v, GROUP_NOTES[g as ThreadGroup])),
    line('total', s.pipelineCpuPerImage, `${pct(s.coresBusy)} of ${s.cores} cores busy on average`),
    ...rows.filter(([g]) => g === 'sampler').map(([g, v]) => line(g, v, GROUP_NOTES.sampler)),
    ...rows.filter(([g]) => g === OTHER_PROCESSES).map(([g, v]) => line(g, Math.max(0, v), others)),
  ];
}

export function formatSummary(s: PipelineSummary, head: string, threadsMissing: string | undefined): string {
  const js = s.js;
  const lines = [
    `${head}: ${s.images} images${s.failed ? ` (${s.failed} failed)` : ''} in ${ms(s.wallMs)} ms, ${ms(s.msPerImage)} ms per image (${(1000 / s.msPerImage).toFixed(1)} images/s)`,
    '',
    ...(threadsMissing
      ? [
          `per-thread CPU: unavailable (${threadsMissing}); the process used ${ms(s.pipelineCpuPerImage)} ms of CPU per image, ${pct(s.coresBusy)} of ${s.cores} cores`,
        ]
      : groupLines(s)),
    '',
    `JavaScript thread, ms per image (of ${ms(s.msPerImage)} wall):`,
    `  in model runs              ${ms(js.run).padStart(8)}  (${pct(js.run / s.msPerImage)})`,
    `  preprocessing              ${ms(js.preprocess).padStart(8)}`,
    `  postprocessing             ${ms(js.post).padStart(8)}`,
    `  waiting for decodes, other ${ms(js.other).padStart(8)}  (${ms(js.firstRunMs)} ms of it before the first run)`,
    ...(js.cpu !== undefined
      ? [`  its CPU                    ${ms(js.cpu).padStart(8)}  (idle ${ms(Math.max(0, s.msPerImage - js.cpu))})`]
      : []),
    '',
    `decodes: ${ms(s.decode.mean)} ms from a decoder slot to pixels on the JavaScript thread on average (p50 ${ms(s.decode.p50)}, p90 ${ms(s.decode.p90)}, max ${ms(s.decode.max)}); an image waited ${ms(s.decode.slotWait)} ms for its slot`,
    '',
    `inference only (the same session, one preprocessed batch of ${s.inference.batch}, median of ${s.inference.runs} run${s.inference.runs === 1 ? '' : 's'}): ${ms(s.inference.msPerImage)} ms per image` +
      (s.inference.cpuPerImage !== undefined ? `, ${ms(s.inference.cpuPerImage)} ms of CPU per image` : '') +
      (s.inference.othersBusy !== undefined
        ? ` (other processes took ${pct(s.inference.othersBusy)} of the cores meanwhile)`
        : ''),
    ...(s.modelCpuPerImage !== undefined && s.inference.cpuPerImage !== undefined
      ? [
          `the model's own CPU per image in the pipeline (the JavaScript thread during runs, onnxruntime's threads): ${ms(s.modelCpuPerImage)} ms, against ${ms(s.inference.cpuPerImage)} alone`,
        ]
      : []),
    `the pipeline reaches ${pct(s.share)} of inference-only throughput`,
    `ceiling: at 100% of ${s.cores} cores, ${ms(s.pipelineCpuPerImage)} ms of CPU per image allows ${ms(s.pipelineCpuPerImage / s.cores)} ms per image, ${pct(s.ceiling)} of inference-only`,
    `so ${verdict(s)}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The chart's lines under its title. */
export function chartNotes(s: PipelineSummary): string[] {
  return [
    `${s.images} images in ${ms(s.wallMs)} ms (${ms(s.msPerImage)} ms per image); ${pct(s.coresBusy)} of ${s.cores} cores busy` +
      (s.othersBusy !== undefined ? ` (other processes ${pct(s.othersBusy)})` : '') +
      '; ' +
      `JavaScript thread: ${pct(s.js.run / s.msPerImage)} in model runs, ${pct(s.js.preprocess / s.msPerImage)} preprocessing, ${pct(s.js.other / s.msPerImage)} waiting/other`,
    `inference only ${ms(s.inference.msPerImage)} ms per image: the pipeline reaches ${pct(s.share)}; ` +
      `its ${ms(s.pipelineCpuPerImage)} ms of CPU per image would allow ${pct(s.ceiling)} at 100% of ${s.cores} cores`,
  ];
}
