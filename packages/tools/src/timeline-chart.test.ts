import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type TimelineChartInput, packLanes, tickStep, timelineChart } from './timeline-chart.js';

const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';

// Python's XML parser (not ours) reads the SVG and counts what it holds: decode lanes by their y (an image's rect
// has a <title>, a legend's swatch has not), shapes by colour.
const COUNT = `
import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
ns = '{http://www.w3.org/2000/svg}'
by_fill, ys = {}, {}
for r in root.iter(ns + 'rect'):
    f = r.get('fill'); by_fill[f] = by_fill.get(f, 0) + 1
    if f == '#4e79a7' and r.find(ns + 'title') is not None: ys[r.get('y')] = 1
attrs = [v for e in root.iter() for v in e.attrib.values()]
print(json.dumps({'tag': root.tag, 'fills': by_fill, 'decodeLanes': len(ys),
  'polygons': len(list(root.iter(ns + 'polygon'))), 'nan': any('NaN' in v or 'Infinity' in v for v in attrs),
  'text': ' '.join(t.text or '' for t in root.iter(ns + 'text'))}))
`;

function parsed(svg: string): {
  tag: string;
  fills: Record<string, number>;
  decodeLanes: number;
  polygons: number;
  nan: boolean;
  text: string;
} {
  const r = spawnSync(PYTHON, ['-c', COUNT], { input: svg, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${PYTHON} could not parse the SVG: ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout);
}

// Four decoder slots, 12 images: slot k takes images k, k+4, k+8 back to back; image 5 fails.
const images = Array.from({ length: 12 }, (_, i) => {
  const start = Math.floor(i / 4) * 100 + (i % 4);
  return {
    name: `i${i}.jpg`,
    queued: 0,
    decodeStart: start,
    decodeEnd: start + 80,
    preprocessEnd: start + 95,
    ok: i !== 5,
  };
});

const input: TimelineChartInput = {
  title: 'mobilenet_v2: the folder pipeline on Test CPU, 2 cores',
  notes: ['12 images in 400 ms', 'inference only'],
  images,
  runs: [
    { start: 100, end: 200, images: 4 },
    { start: 300, end: 390, images: 4 },
  ],
  usage: {
    groups: ['JavaScript', 'onnxruntime', 'libvips'],
    times: [0, 100, 200, 400],
    busy: [
      [0.2, 0, 1.5],
      [1, 0.9, 0.1],
      [0.5, 0.5, 2.5], // over the 2 cores (sampling jitter): drawn clipped, not a taller axis
    ],
  },
  cores: 2,
  wallMs: 400,
};

describe('packLanes', () => {
  it('puts each span in the first lane free at its start: one lane per decoder slot', () => {
    const lanes = packLanes(images.map((i) => ({ start: i.decodeStart, end: i.preprocessEnd })));
    expect(lanes).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    // A slot released a little before its end was stamped still counts as free (0.5 ms of slack).
    expect(
      packLanes([
        { start: 0, end: 10.3 },
        { start: 10, end: 20 },
      ]),
    ).toEqual([0, 0]);
    expect(
      packLanes([
        { start: 0, end: 11 },
        { start: 10, end: 20 },
      ]),
    ).toEqual([0, 1]);
    expect(packLanes([])).toEqual([]);
  });
});

describe('tickStep', () => {
  it('steps by 1, 2 or 5 times a power of ten', () => {
    expect([tickStep(400), tickStep(7123), tickStep(95), tickStep(0)]).toEqual([50, 1000, 10, 1e-10]);
  });
});

describe('timelineChart', () => {
  it('is well-formed SVG with a lane per slot, each run, an area per group, and no NaN', async () => {
    const svg = timelineChart(input);
    const p = parsed(svg);
    expect(p.tag).toBe('{http://www.w3.org/2000/svg}svg');
    expect(p.decodeLanes).toBe(4);
    expect(p.fills['#e15759']).toBe(1 + 1); // the failed image and the legend's swatch
    expect(p.fills['#4e79a7']).toBe(11 + 2); // 11 decodes, the legend's swatch and libvips'
    expect(p.fills['#59a14f']).toBe(2 + 2 + 1 + 1); // 2 runs, their shade over the slots, the legend's and onnxruntime's
    expect(p.polygons).toBe(3);
    expect(p.nan).toBe(false);
    expect(p.text).toContain('mobilenet_v2: the folder pipeline on Test CPU, 2 cores');
    expect(p.text).toContain("milliseconds from the pipeline's start");
    for (const t of ['0', '50', '400']) expect(p.text.split(' ')).toContain(t);
    // librsvg (through sharp) draws it.
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    expect((await sharp(png).metadata()).width).toBeGreaterThan(1000);
  });

  it('says why there is no CPU area, and survives an empty timeline', () => {
    const svg = timelineChart({
      ...input,
      usage: undefined,
      usageMissing: 'per-thread CPU needs Linux (this is darwin)',
    });
    expect(parsed(svg).text).toContain('per-thread CPU needs Linux (this is darwin)');
    const empty = parsed(timelineChart({ ...input, images: [], runs: [], usage: undefined, wallMs: 0 }));
    expect(empty.nan).toBe(false);
    expect(empty.polygons).toBe(0);
  });
});
