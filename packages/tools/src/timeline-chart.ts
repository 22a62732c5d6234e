/**
 * The folder pipeline's timeline as one SVG (`mobilenet profile --pipeline --svg`, issue 30): each image's decode and
 * preprocessing on the decoder slots, the model runs on the JavaScript thread, and below them how many cores each
 * group of threads kept busy. Times are milliseconds from the pipeline's start.
 */

import type { ImageTiming } from '@mobilenet/core';

/** One image: asked for, got a decoder slot, pixels back on the JavaScript thread, tensor ready (core's timing). */
export type TimelineImage = Omit<ImageTiming, 'index'>;

/** One model run (it blocks the JavaScript thread) and how many images it held. */
export interface TimelineRun {
  readonly start: number;
  readonly end: number;
  readonly images: number;
}

/** Cores each group kept busy between `times[i]` and `times[i + 1]` (`busy[i][g]`, one row per interval). */
export interface TimelineUsage {
  readonly groups: readonly string[];
  readonly times: readonly number[];
  readonly busy: readonly (readonly number[])[];
}

/** What timelineChart draws: times in milliseconds from the pipeline's start. */
export interface TimelineChartInput {
  /** The chart's heading: model, machine, cores. */
  readonly title: string;
  /** Lines under the title: what the numbers say. */
  readonly notes: readonly string[];
  readonly images: readonly TimelineImage[];
  readonly runs: readonly TimelineRun[];
  /** Per-thread CPU; without it the chart says `usageMissing` where the area would be. */
  readonly usage?: TimelineUsage;
  readonly usageMissing?: string;
  /** The machine's cores: the CPU area's dashed line. */
  readonly cores: number;
  /** The pipeline's end: the x axis runs from 0 to here. */
  readonly wallMs: number;
}

const COLORS = {
  decode: '#4e79a7',
  preprocess: '#f28e2b',
  failed: '#e15759',
  run: '#59a14f',
};
const GROUP_COLORS: Readonly<Record<string, string>> = {
  JavaScript: '#edc948',
  onnxruntime: '#59a14f',
  libvips: '#4e79a7',
  'libuv pool': '#9c755f',
  other: '#bab0ac',
  sampler: '#ff9da7',
  'other processes': '#d9c2e0',
};
const SPARE_COLORS = ['#b07aa1', '#76b7b2', '#e15759'];
/** Legend labels for the thread groups the CLI uses; another group is shown by its name. */
const GROUP_LABELS: Readonly<Record<string, string>> = {
  JavaScript: 'JavaScript thread',
  onnxruntime: "onnxruntime's threads",
  libvips: "libvips' threads",
  'libuv pool': "libuv's pool",
  other: 'other (V8 GC, compiler, loader)',
  sampler: "this profile's sampler",
  'other processes': 'other processes on the machine',
};

const LEFT = 130;
const PLOT = 960;
const AREA_H = 190;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '0');

/**
 * A lane for each span, first fit in start order: a lane is free once its last span has ended (`slack` ms early
 * counts as ended: a decoder slot is released just before its image's end is stamped). With the spans of the
 * decoder slots (decodeStart to preprocessEnd) this gives one lane per slot.
 */
export function packLanes(spans: readonly { start: number; end: number }[], slack = 0.5): number[] {
  const order = spans.map((_, i) => i).sort((a, b) => spans[a]!.start - spans[b]!.start);
  const ends: number[] = [];
  const lanes = new Array<number>(spans.length).fill(0);
  for (const i of order) {
    const s = spans[i]!;
    let lane = ends.findIndex((end) => end <= s.start + slack);
    if (lane < 0) lane = ends.push(s.end) - 1;
    else ends[lane] = s.end;
    lanes[i] = lane;
  }
  return lanes;
}

/** Tick step for an axis of `span`: 1, 2 or 5 times a power of ten, about `count` ticks. */
export function tickStep(span: number, count = 10): number {
  const raw = Math.max(span, 1e-9) / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * pow >= raw) ?? 10) * pow;
}

interface Frame {
  readonly x: (t: number) => number;
  y: number;
  readonly parts: string[];
}

function legend(frame: Frame, items: readonly [string, string][]): void {
  let x = 10;
  for (const [label, color] of items) {
    const w = 26 + label.length * 6.2;
    if (x + w > LEFT + PLOT) {
      x = 10;
      frame.y += 16;
    }
    frame.parts.push(
      `<rect x="${x}" y="${frame.y - 9}" width="12" height="10" fill="${color}" stroke="#999" stroke-width="0.5"/><text x="${x + 16}" y="${frame.y}">${esc(label)}</text>`,
    );
    x += w;
  }
  frame.y += 14;
}

function decodeLanes(frame: Frame, images: readonly TimelineImage[], runs: readonly TimelineRun[]): void {
  const lanes = packLanes(images.map((i) => ({ start: i.decodeStart, end: i.preprocessEnd })));
  const count = Math.max(1, ...lanes.map((l) => l + 1));
  const h = Math.max(5, Math.min(14, Math.floor(160 / count)));
  const top = frame.y;
  images.forEach((img, i) => {
    const y = top + lanes[i]! * (h + 2);
    const name = `${img.name}: decode ${f1(img.decodeEnd - img.decodeStart)} ms, preprocess ${f1(img.preprocessEnd - img.decodeEnd)} ms`;
    const rect = (a: number, b: number, color: string) =>
      `<rect x="${f1(frame.x(a))}" y="${y}" width="${f1(Math.max(0.5, frame.x(b) - frame.x(a)))}" height="${h}" fill="${color}"><title>${esc(name)}</title></rect>`;
    if (!img.ok) frame.parts.push(rect(img.decodeStart, img.preprocessEnd, COLORS.failed));
    else
      frame.parts.push(
        rect(img.decodeStart, img.decodeEnd, COLORS.decode),
        rect(img.decodeEnd, img.preprocessEnd, COLORS.preprocess),
      );
  });
  // The model runs, shaded over the slots: a decode ends only once the JavaScript thread is out of a run.
  for (const r of runs)
    frame.parts.push(
      `<rect x="${f1(frame.x(r.start))}" y="${top - 2}" width="${f1(Math.max(0.5, frame.x(r.end) - frame.x(r.start)))}" height="${count * (h + 2) + 2}" fill="${COLORS.run}" opacity="0.3"/>`,
    );
  const mid = top + (count * (h + 2)) / 2;
  frame.parts.push(
    `<text x="${LEFT - 8}" y="${f1(mid - 2)}" text-anchor="end">decoder slots</text>`,
    `<text x="${LEFT - 8}" y="${f1(mid + 11)}" text-anchor="end" fill="#555">(${count} lane${count === 1 ? '' : 's'})</text>`,
  );
  frame.y = top + count * (h + 2) + 8;
}

function jsLane(frame: Frame, images: readonly TimelineImage[], runs: readonly TimelineRun[]): void {
  const y = frame.y;
  const h = 22;
  frame.parts.push(
    `<rect x="${LEFT}" y="${y}" width="${PLOT}" height="${h}" fill="#f4f4f4"/>`,
    `<text x="${LEFT - 8}" y="${y + 15}" text-anchor="end">JavaScript thread</text>`,
  );
  for (const img of images)
    if (img.ok)
      frame.parts.push(
        `<rect x="${f1(frame.x(img.decodeEnd))}" y="${y + 3}" width="${f1(Math.max(0.5, frame.x(img.preprocessEnd) - frame.x(img.decodeEnd)))}" height="${h - 6}" fill="${COLORS.preprocess}"/>`,
      );
  runs.forEach((r, i) => {
    const x0 = frame.x(r.start);
    const w = Math.max(0.5, frame.x(r.end) - x0);
    frame.parts.push(
      `<rect x="${f1(x0)}" y="${y}" width="${f1(w)}" height="${h}" fill="${COLORS.run}" stroke="#fff" stroke-width="0.5"><title>run ${i + 1}: ${r.images} images, ${f1(r.end - r.start)} ms</title></rect>`,
    );
    if (w > 16)
      frame.parts.push(`<text x="${f1(x0 + w / 2)}" y="${y + 15}" text-anchor="middle" fill="#fff">${r.images}</text>`);
  });
  frame.y = y + h + 12;
}

/** The stacked area of cores busy by group, one step per sampling interval. */
function usageArea(frame: Frame, usage: TimelineUsage, cores: number): void {
  const top = frame.y;
  const stacked = usage.busy.map((row) => row.reduce((a, b) => a + b, 0));
  // Samples of different threads are read a few microseconds apart, so an interval can show a little over the
  // cores; the scale stays at the cores unless the machine really ran more (a cgroup with fewer CPUs than it sees).
  const peak = Math.max(0, ...stacked.filter(Number.isFinite));
  const yMax = peak > 1.25 * cores ? Math.ceil(peak) : cores;
  const y = (v: number) => top + AREA_H - (Math.min(v, yMax) / yMax) * AREA_H;
  for (let c = 0; c <= yMax; c++)
    frame.parts.push(
      `<line x1="${LEFT}" x2="${LEFT + PLOT}" y1="${f1(y(c))}" y2="${f1(y(c))}" stroke="${c === cores ? '#333' : '#ddd'}"${c === cores ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${LEFT - 6}" y="${f1(y(c) + 4)}" text-anchor="end" fill="#555">${c}</text>`,
    );
  const base = usage.busy.map(() => 0);
  usage.groups.forEach((g, gi) => {
    const upper: string[] = [];
    const lower: string[] = [];
    usage.busy.forEach((row, i) => {
      const v = Number.isFinite(row[gi]) ? Math.max(0, row[gi]!) : 0;
      const [xa, xb] = [frame.x(usage.times[i]!), frame.x(usage.times[i + 1]!)];
      upper.push(`${f1(xa)},${f1(y(base[i]! + v))} ${f1(xb)},${f1(y(base[i]! + v))}`);
      lower.unshift(`${f1(xb)},${f1(y(base[i]!))} ${f1(xa)},${f1(y(base[i]!))}`);
      base[i]! += v;
    });
    const color = GROUP_COLORS[g] ?? SPARE_COLORS[gi % SPARE_COLORS.length]!;
    if (upper.length > 0)
      frame.parts.push(
        `<polygon points="${upper.join(' ')} ${lower.join(' ')}" fill="${color}"><title>${esc(g)}</title></polygon>`,
      );
  });
  frame.parts.push(
    `<text x="${LEFT - 40}" y="${top + AREA_H / 2}" text-anchor="middle" transform="rotate(-90 ${LEFT - 40} ${top + AREA_H / 2})">cores busy</text>`,
  );
  frame.y = top + AREA_H;
}

function axis(frame: Frame, wallMs: number): void {
  const step = tickStep(wallMs);
  const y = frame.y;
  frame.parts.push(`<line x1="${LEFT}" x2="${LEFT + PLOT}" y1="${y}" y2="${y}" stroke="#333"/>`);
  for (let t = 0; t <= wallMs + 1e-9; t += step)
    frame.parts.push(
      `<line x1="${f1(frame.x(t))}" x2="${f1(frame.x(t))}" y1="${y}" y2="${y + 4}" stroke="#333"/><text x="${f1(frame.x(t))}" y="${y + 16}" text-anchor="middle">${Math.round(t)}</text>`,
    );
  frame.parts.push(
    `<text x="${LEFT + PLOT / 2}" y="${y + 32}" text-anchor="middle">milliseconds from the pipeline's start</text>`,
  );
  frame.y = y + 42;
}

/** The timeline as a standalone SVG document. */
export function timelineChart(input: TimelineChartInput): string {
  const span = Math.max(1e-6, input.wallMs);
  const frame: Frame = { x: (t) => LEFT + (Math.max(0, Math.min(t, span)) / span) * PLOT, y: 20, parts: [] };
  frame.parts.push(`<text x="10" y="${frame.y}" font-size="14" font-weight="bold">${esc(input.title)}</text>`);
  frame.y += 18;
  for (const note of input.notes) {
    frame.parts.push(`<text x="10" y="${frame.y}">${esc(note)}</text>`);
    frame.y += 15;
  }
  frame.y += 8;
  const groups = input.usage?.groups ?? [];
  legend(frame, [
    ['decode: from a decoder slot until the JavaScript thread takes the pixels', COLORS.decode],
    ['preprocess (on the JavaScript thread)', COLORS.preprocess],
    ...(input.images.some((i) => !i.ok) ? ([['failed', COLORS.failed]] as [string, string][]) : []),
    ['model run (images in the batch)', COLORS.run],
    ['JavaScript thread idle or busy elsewhere', '#f4f4f4'],
  ]);
  frame.y += 4;
  decodeLanes(frame, input.images, input.runs);
  jsLane(frame, input.images, input.runs);
  if (input.usage && input.usage.busy.length > 0) {
    frame.y += 16;
    legend(
      frame,
      groups.map((g, i) => [GROUP_LABELS[g] ?? g, GROUP_COLORS[g] ?? SPARE_COLORS[i % SPARE_COLORS.length]!]),
    );
    usageArea(frame, input.usage, input.cores);
  } else {
    frame.parts.push(
      `<text x="${LEFT}" y="${frame.y + 20}" fill="#a00">${esc(input.usageMissing ?? 'no per-thread CPU samples')}</text>`,
    );
    frame.y += 30;
  }
  axis(frame, span);
  const width = Math.max(
    LEFT + PLOT + 20,
    20 + Math.ceil(Math.max(input.title.length * 8, ...input.notes.map((n) => n.length * 6.2))),
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.ceil(frame.y)}" font-family="sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="#fff"/>\n${frame.parts.join('\n')}\n</svg>\n`;
}
