import { describe, expect, it } from 'vitest';
import type { PipelineTimeline, ThreadTimeline } from './pipeline-timeline.js';
import { chartNotes, formatSummary, verdict } from './timeline-report.js';
import { cpuAt, cpuBetween, groupSeries, quantile, summarize, usageOf } from './timeline-summary.js';

// A timeline worked by hand: 2 cores, 10 images in 1000 ms, two runs of 5, inference alone 40 ms per image.
const threads: ThreadTimeline = {
  clock: 'schedstat',
  intervalMs: 500,
  thinned: false,
  threads: [
    { tid: 1, comm: 'node', group: 'JavaScript' },
    { tid: 2, comm: 'node', group: 'onnxruntime' },
    { tid: 3, comm: 'libvips worker', group: 'libvips' },
    { tid: 4, comm: 'node', group: 'other' },
    { tid: 5, comm: 'node', group: 'sampler' },
  ],
  samples: [
    // Thread 3 starts after the first sample (it counts 0 before); thread 4 ends after the second (it keeps 150).
    { t: 0, tids: [1, 2, 4, 5], cpuMs: [100, 0, 50, 0] },
    { t: 500, tids: [1, 2, 3, 4, 5], cpuMs: [350, 200, 300, 150, 10] },
    { t: 1000, tids: [1, 2, 3, 5], cpuMs: [600, 400, 600, 20] },
    { t: 1200, tids: [1, 2, 3, 5], cpuMs: [700, 500, 600, 24] },
  ],
};

const images = Array.from({ length: 10 }, (_, i) => ({
  index: i,
  name: `img${i}.jpg`,
  queued: 0,
  decodeStart: 10 * i,
  decodeEnd: i === 9 ? 10 * i + 20 : 10 * i + 50,
  preprocessEnd: i === 9 ? 10 * i + 20 : 10 * i + 55,
  ok: i !== 9,
}));

const timeline: PipelineTimeline = {
  wallMs: 1000,
  cores: 2,
  images,
  batches: [
    { images: 5, failed: 0, batch: 5, runStart: 300, runEnd: 500, waitMs: 300, postMs: 2 },
    { images: 5, failed: 1, batch: 4, runStart: 700, runEnd: 900, waitMs: 200, postMs: 2 },
  ],
  processCpuMs: 1234,
  threads,
  inference: { batch: 5, runs: 2, msPerImage: 40, start: 1000, end: 1200 },
};

describe('group series', () => {
  const s = groupSeries(threads);
  it('sums each group, counting a thread 0 before it appears and its last value after it ends', () => {
    expect(s.groups).toEqual(['JavaScript', 'onnxruntime', 'libvips', 'other', 'sampler']);
    expect(s.cum.map((row) => row[2])).toEqual([0, 300, 600, 600]);
    expect(s.cum.map((row) => row[3])).toEqual([50, 150, 150, 150]);
  });

  it('interpolates between samples and holds outside them', () => {
    expect(cpuAt(s, 0, 250)).toBe(225);
    expect(cpuAt(s, 0, -50)).toBe(100);
    expect(cpuAt(s, 0, 5000)).toBe(700);
    expect(cpuBetween(s, 0, 1000)).toEqual({
      JavaScript: 500,
      onnxruntime: 400,
      libvips: 600,
      other: 100,
      sampler: 20,
    });
  });

  it("turns CPU into cores busy per interval, whose area is each group's CPU", () => {
    const u = usageOf(s, 0, 1000);
    expect(u.times).toEqual([0, 500, 1000]);
    expect(u.busy[0]).toEqual([0.5, 0.4, 0.6, 0.2, 0.02]);
    const area = (g: number) => u.busy.reduce((a, row, i) => a + row[g]! * (u.times[i + 1]! - u.times[i]!), 0);
    expect(s.groups.map((_, g) => Math.round(area(g)))).toEqual([500, 400, 600, 100, 20]);
    // A window between samples is cut at its ends.
    expect(usageOf(s, 250, 750).times).toEqual([250, 500, 750]);
  });
});

describe('summarize', () => {
  const s = summarize(timeline);
  it('gives CPU per image by group, cores busy, and the JavaScript thread by stage', () => {
    expect([s.images, s.failed, s.msPerImage]).toEqual([10, 1, 100]);
    expect(s.cpuPerImage).toEqual({ JavaScript: 50, onnxruntime: 40, libvips: 60, other: 10, sampler: 2 });
    expect(s.pipelineCpuPerImage).toBe(160); // the sampler is left out
    expect(s.coresBusy).toBe(0.8);
    expect(s.js).toEqual({ run: 40, preprocess: 4.5, post: 0.4, other: 55.1, cpu: 50, firstRunMs: 300 });
    expect(s.decode).toEqual({ mean: 50, p50: 50, p90: 50, max: 50, slotWait: 40 });
    // The JavaScript thread ran 0.5 ms of CPU per ms in both halves: 100 ms in each 200 ms run; onnxruntime 400.
    expect(s.modelCpuPerImage).toBe((100 + 100 + 400) / 10);
  });

  it('sets the measured share of inference-only against the ceiling its CPU per image allows', () => {
    expect(s.inference).toEqual({ batch: 5, runs: 2, msPerImage: 40, cpuPerImage: 20 });
    expect(s.share).toBe(0.4);
    // 160 ms of CPU per image on 2 cores: 80 ms per image at best, against inference's 40.
    expect(s.ceiling).toBe(0.5);
    expect(verdict(s)).toBe(
      'the pipeline kept 80% of the cores busy: 10% of inference-only throughput is lost to cores it did not use ' +
        "(scheduling: 40% reached of 50% possible), 50% to the CPU the pipeline adds (140.0 ms of CPU per image beyond inference's 20.0); " +
        'the bigger gap is arithmetic: even with every core busy this CPU per image allows 50%, so less CPU per image ' +
        '(cheaper decodes, preprocessing, fewer allocations for GC) is what helps',
    );
    const text = formatSummary(s, 'm', undefined);
    expect(text).toContain('  libvips             60.0  ');
    expect(text).toContain('  total              160.0  80% of 2 cores busy on average\n  sampler              2.0');
    expect(text).toContain(
      'ceiling: at 100% of 2 cores, 160.0 ms of CPU per image allows 80.0 ms per image, 50% of inference-only',
    );
    expect(chartNotes(s)[1]).toBe(
      'inference only 40.0 ms per image: the pipeline reaches 40%; its 160.0 ms of CPU per image would allow 50% at 100% of 2 cores',
    );
  });

  it('calls idle cores scheduling when they are the bigger gap', () => {
    const idle = summarize({ ...timeline, wallMs: 4000, threads: undefined, processCpuMs: 600 });
    expect([idle.coresBusy, idle.share, idle.ceiling]).toEqual([0.075, 0.1, 1]);
    expect(verdict(idle)).toMatch(/the bigger gap is scheduling: keep the cores busy/);
  });

  it('without thread samples, takes the process CPU and says why the groups are missing', () => {
    const s2 = summarize({ ...timeline, threads: undefined, threadsMissing: 'per-thread CPU needs Linux' });
    expect(s2.cpuPerImage).toBeUndefined();
    expect(s2.pipelineCpuPerImage).toBeCloseTo(123.4, 9);
    expect(s2.js.cpu).toBeUndefined();
    expect(formatSummary(s2, 'm', 'per-thread CPU needs Linux')).toContain(
      'per-thread CPU: unavailable (per-thread CPU needs Linux); the process used 123.4 ms of CPU per image, 62% of 2 cores',
    );
  });
});

describe('other processes', () => {
  // The same timeline with /proc/stat's busy CPU: ours plus 200 ms of others' in the first half, 300 in the second.
  const machineMs = [10000, 11060, 12120, 12324];
  const shared: PipelineTimeline = {
    ...timeline,
    threads: { ...threads, samples: threads.samples.map((x, i) => ({ ...x, machineMs: machineMs[i]! })) },
  };

  it("are the machine's busy CPU less this process's threads, left out of the pipeline's CPU", () => {
    const series = groupSeries(shared.threads!);
    expect(series.groups.at(-1)).toBe('other processes');
    expect(cpuBetween(series, 0, 1000)['other processes']).toBe(500);
    expect(usageOf(series, 0, 1000).busy.map((row) => row.at(-1))).toEqual([0.4, 0.6]);
    const s = summarize(shared);
    expect([s.pipelineCpuPerImage, s.coresBusy, s.othersBusy, s.ceiling]).toEqual([160, 0.8, 0.25, 0.5]);
    expect(verdict(s)).toMatch(
      /^the pipeline kept 80% of the cores busy and other processes 25%: .*; other processes took 25% of the cores, so measure again on a quiet machine before blaming the scheduling$/,
    );
    expect(formatSummary(s, 'm', undefined)).toContain(
      '  other processes     50.0  the rest of the machine (/proc/stat): 25% of the cores\n',
    );
  });

  it('averaged over wider steps, the area is unchanged', () => {
    const series = groupSeries(shared.threads!);
    const wide = usageOf(series, 0, 1000, 600);
    expect(wide.times).toEqual([0, 1000]);
    expect(wide.busy[0]!.map((v) => Math.round(v * 1000))).toEqual([500, 400, 600, 100, 20, 500]);
  });
});

describe('quantile', () => {
  it('takes the nearest rank', () => {
    expect([quantile([], 0.5), quantile([3, 1, 2], 0.5), quantile([1, 2, 3, 4], 0.9), quantile([5], 1)]).toEqual([
      0, 2, 4, 5,
    ]);
  });
});
