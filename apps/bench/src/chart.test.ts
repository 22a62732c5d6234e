import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Engine } from './cell.js';
import { BACKGROUND, type ChartInfo, ENGINE_COLOR, chartTitle, svg } from './chart.js';
import type { Row } from './report.js';

// Charts from hand-made rows, rendered to PNG by librsvg (through sharp), as a README reader's viewer would draw them.
const MACS: Record<string, number> = { v1: 568.7e6, v2: 300.8e6, 'v3-large': 216.6e6, 'v3-small': 56.5e6 };
const row = (arch: string, engine: Engine, threads: number, p50: number, o: Partial<Row> = {}): Row =>
  ({
    arch,
    width: 1,
    resolution: 224,
    batch: 1,
    runs: 30,
    warmup: 5,
    engine,
    threads,
    params: 1,
    macs: MACS[arch]!,
    status: 'ok',
    p50,
    ...o,
  }) as Row;

/** The default run's shape: every arch on every engine, one point per arch and series. */
const defaultRows = Object.keys(MACS).flatMap((arch, i) => [
  row(arch, 'cpu', 1, 4 + i),
  row(arch, 'cpu', 2, 2 + i),
  row(arch, 'wasm', 2, 20 + i),
  row(arch, 'ort', 2, 2.1 + i),
  row(arch, 'tfjs-wasm', 1, 40 + i),
]);
/** A scaling run: two families at three widths each, one engine (whose colour must not change). */
const scalingRows = ['v1', 'v2'].flatMap((arch) =>
  [0.5, 0.75, 1].map((width) => row(arch, 'wasm', 2, 30 * width, { width, macs: MACS[arch]! * width ** 2 })),
);
const info: ChartInfo = {
  machine: { cpu: 'AMD EPYC', cores: 2 },
  date: '2026-12-06T21:00:00.000Z',
  loadAverage: { start: [0.1, 0, 0], end: [1.9, 0, 0] },
  peaks: [{ threads: 2, gmacs: 120, shape: [1024, 1024, 1024], runs: 10, ms: 17.9 }],
};

const texts = (chart: string, cls: string) =>
  [...chart.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]);

async function png(chart: string, name: string) {
  const file = await sharp(Buffer.from(chart)).png().toBuffer();
  // Kept for a look (apps/bench/.cache is ignored by git).
  const dir = join(import.meta.dirname, '../.cache');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), file);
  const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 4)];
  return { at, width: info.width, height: info.height, data };
}

const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));

describe('the chart', () => {
  it('names the measured machine in its title, labels every architecture once, and joins no two models', () => {
    const chart = svg(defaultRows, info);
    expect(texts(chart, 'title')).toEqual([chartTitle(info)]);
    expect(chartTitle(info)).toBe('MobileNet p50 latency vs MACs: AMD EPYC, 2 cores');
    expect(texts(chart, 'subtitle')[0]).toBe(
      'measured 2026-12-06; load average 0.10 at start, 1.90 at end; fp32 peak x2 120.0 GMAC/s',
    );
    expect(texts(chart, 'arch-label').sort()).toEqual(Object.keys(MACS).sort());
    // One point per arch and series: nothing to join.
    expect(chart).not.toContain('<polyline');
    expect(chart.match(/class="point"/g)).toHaveLength(defaultRows.length);
    expect(texts(chart, 'legend')).toEqual(['cpu x1', 'cpu x2', 'wasm x2', 'ort x2', 'tfjs-wasm x1']);
  });

  it("joins only one model's own points (its widths), in order of MACs", () => {
    const chart = svg(scalingRows, info);
    const tracks = [...chart.matchAll(/<polyline class="track" data-track="([^"]+)" points="([^"]+)"/g)];
    expect(tracks.map((t) => t[1])).toEqual(['wasm x2|v1', 'wasm x2|v2']);
    for (const [, track, points] of tracks) {
      const arch = track!.split('|')[1]!;
      const xs = points!.split(' ').map((p) => Number(p.split(',')[0]));
      const own = [...chart.matchAll(new RegExp(`<circle class="point" data-arch="${arch}" [^>]*cx="([\\d.]+)"`, 'g'))];
      expect(xs).toEqual(own.map((m) => Number(m[1])).sort((a, b) => a - b));
    }
    expect(texts(chart, 'arch-label').sort()).toEqual(['v1', 'v2']);
  });

  it("draws each engine in its own colour in every chart, whatever the chart's other engines", () => {
    for (const chart of [svg(defaultRows, info), svg(scalingRows, info), svg(defaultRows.slice(2), info)]) {
      const points = [...chart.matchAll(/<circle class="point" [^>]*data-engine="([^"]+)"[^>]*>/g)];
      expect(points.length).toBeGreaterThan(0);
      for (const [tag, engine] of points) {
        // Filled markers (2+ threads) are painted in the colour, hollow ones (1 thread) outlined in it.
        const colour = (tag.match(/stroke="(#[0-9a-f]{6})"/) ?? tag.match(/fill="(#[0-9a-f]{6})"/))![1];
        expect(colour, engine).toBe(ENGINE_COLOR[engine as Engine]);
      }
    }
    expect(new Set(Object.values(ENGINE_COLOR)).size).toBe(Object.keys(ENGINE_COLOR).length);
  });

  it('renders to a PNG with an opaque background, its text and its points drawn', async () => {
    const chart = svg(defaultRows, { ...info, warnings: ['fp32 peak at 2 thread(s) moved 17.5%'] });
    expect(texts(chart, 'warning')).toEqual(['not a quiet run: fp32 peak at 2 thread(s) moved 17.5%']);
    const image = await png(chart, 'chart-test.png');
    expect([image.width, image.height]).toEqual([820, 500]);
    // Every corner opaque and the background's colour: the chart reads the same on a dark page.
    for (const [x, y] of [
      [0, 0],
      [image.width - 1, 0],
      [0, image.height - 1],
      [image.width - 1, image.height - 1],
    ])
      expect(image.at(x!, y!), `pixel ${x},${y}`).toEqual([...rgb(BACKGROUND), 255]);
    let transparent = 0;
    for (let i = 3; i < image.data.length; i += 4) if (image.data[i]! < 255) transparent++;
    expect(transparent).toBe(0);
    // The title's text is drawn (dark pixels on its line), and the engines' colours appear (the points).
    let dark = 0;
    for (let y = 8; y < 26; y++) for (let x = 70; x < 400; x++) if (image.at(x, y)[0]! < 100) dark++;
    expect(dark).toBeGreaterThan(100);
    for (const engine of ['cpu', 'wasm', 'ort', 'tfjs-wasm'] as const) {
      const [r, g, b] = rgb(ENGINE_COLOR[engine]);
      let n = 0;
      for (let i = 0; i < image.data.length; i += 4)
        if (Math.abs(image.data[i]! - r!) + Math.abs(image.data[i + 1]! - g!) + Math.abs(image.data[i + 2]! - b!) < 12)
          n++;
      expect(n, engine).toBeGreaterThan(20);
    }
  });
});
