// The benchmark's chart: p50 latency against MACs, log-log. One colour per engine in every chart, a label per
// architecture, and lines only between one model's own points (its widths, resolutions or batches), never across
// models: a line from v3-Small to v1 would read as a trend that no single network has.
import type { Engine } from './cell.js';
import type { Peak } from './peak.js';
import type { Row } from './report.js';

/** Fixed per engine, so that the same engine has the same colour in every chart the bench writes. */
export const ENGINE_COLOR: Record<Engine, string> = {
  cpu: '#2563eb',
  cuda: '#0891b2',
  wasm: '#dc2626',
  webgpu: '#ea580c',
  'wasm-browser': '#db2777',
  ort: '#16a34a',
  'tfjs-wasm': '#9333ea',
  'tfjs-cpu': '#4b5563',
};

/** The background every chart paints first: opaque, so the chart reads the same on a dark page. */
export const BACKGROUND = '#ffffff';

/** What the title and subtitle say: the machine the numbers were measured on, from the run itself. */
export interface ChartInfo {
  readonly machine: { readonly cpu: string; readonly cores: number };
  /** ISO date of the run (absent in JSON written before it was recorded). */
  readonly date?: string;
  readonly loadAverage?: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly peaks?: readonly Peak[];
  /** Why the run was not quiet (quiet.ts); the chart shows each up to its first ': ' (the numbers, not the why). */
  readonly warnings?: readonly string[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartTitle(info: ChartInfo): string {
  return `MobileNet p50 latency vs MACs: ${info.machine.cpu}, ${info.machine.cores} cores`;
}

function subtitle(info: ChartInfo): string {
  const parts: string[] = [];
  if (info.date) parts.push(`measured ${info.date.slice(0, 10)}`);
  const load = info.loadAverage;
  if (load) parts.push(`load average ${load.start[0]!.toFixed(2)} at start, ${load.end[0]!.toFixed(2)} at end`);
  for (const p of info.peaks ?? []) parts.push(`fp32 peak x${p.threads} ${p.gmacs.toFixed(1)} GMAC/s`);
  return parts.join('; ');
}

/** A series: one engine at one thread count (and precision). Its colour is the engine's, its marker the rest. */
const seriesOf = (r: Row) => `${r.engine} x${r.threads}${r.precision ? ` ${r.precision}` : ''}`;

/** One thread: hollow marker and dashed line; more: filled and solid. Precision: circle, square, triangle. */
function marker(r: Pick<Row, 'engine' | 'threads' | 'precision'>, x: number, y: number, extra = ''): string {
  const c = ENGINE_COLOR[r.engine];
  const paint = r.threads > 1 ? `fill="${c}"` : `fill="${BACKGROUND}" stroke="${c}" stroke-width="2"`;
  const [X, Y] = [x.toFixed(1), y.toFixed(1)];
  if (r.precision === 'fp16')
    return `<rect ${extra}x="${(x - 4).toFixed(1)}" y="${(y - 4).toFixed(1)}" width="8" height="8" ${paint}>`;
  if (r.precision === 'int8')
    return `<path ${extra}d="M${X} ${(y - 5).toFixed(1)}L${(x + 5).toFixed(1)} ${(y + 4).toFixed(1)}L${(x - 5).toFixed(1)} ${(y + 4).toFixed(1)}Z" ${paint}>`;
  return `<circle ${extra}cx="${X}" cy="${Y}" r="4" ${paint}>`;
}
const closing = (r: Pick<Row, 'precision'>) =>
  r.precision === 'fp16' ? '</rect>' : r.precision === 'int8' ? '</path>' : '</circle>';

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}
const overlaps = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/**
 * One label per architecture, above its top-right point (its largest model; in a column of engines at the same
 * MACs, the slowest), moved up past labels already placed, or below the column when it would leave the plot.
 */
function archLabels(
  points: readonly { r: Row; x: number; y: number }[],
  plot: { top: number; right: number },
): string[] {
  const byArch = new Map<string, { x: number; top: number; bottom: number }>();
  for (const { r, x, y } of points) {
    const a = byArch.get(r.arch);
    if (!a || x > a.x + 1) byArch.set(r.arch, { x, top: y, bottom: y });
    else if (Math.abs(x - a.x) <= 1)
      byArch.set(r.arch, { x: a.x, top: Math.min(a.top, y), bottom: Math.max(a.bottom, y) });
  }
  const placed: Box[] = [];
  const out: string[] = [];
  for (const [arch, a] of [...byArch].sort((p, q) => p[1].x - q[1].x)) {
    // Bold 12 px DejaVu Sans (what librsvg and most browsers fall back to) is about 8 px a character.
    const w = 8 * arch.length + 4;
    const anchorEnd = a.x + w / 2 > plot.right;
    const x0 = anchorEnd ? a.x - w : a.x - w / 2;
    let y = a.top - 9;
    const box = (yy: number): Box => ({ x0, x1: x0 + w, y0: yy - 11, y1: yy + 2 });
    while (placed.some((b) => overlaps(b, box(y))) && y > plot.top + 12) y -= 13;
    if (y <= plot.top + 12 && placed.some((b) => overlaps(b, box(y)))) {
      y = a.bottom + 18;
      while (placed.some((b) => overlaps(b, box(y)))) y += 13;
    }
    placed.push(box(y));
    out.push(
      `<text class="arch-label" x="${a.x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchorEnd ? 'end' : 'middle'}" font-weight="600" fill="#111827">${esc(arch)}</text>`,
    );
  }
  return out;
}

/** Latency against MACs, log-log: does latency follow MACs, per engine and per model? */
export function svg(rows: readonly Row[], info: ChartInfo): string {
  const ok = rows.filter((r) => r.status === 'ok' && r.p50);
  const W = 820;
  const H = 500;
  const L = 70;
  const B = 60;
  const warnings = info.warnings ?? [];
  const T = 66 + 14 * Math.min(warnings.length, 3);
  const R = 250;
  const lx = (v: number) => Math.log10(v);
  const xs = ok.map((r) => lx((r.macs * r.batch) / 1e6));
  const ys = ok.map((r) => lx(r.p50!));
  const [x0, x1] = [Math.floor(Math.min(...xs, 1)), Math.ceil(Math.max(...xs, 2))];
  const [y0, y1] = [Math.floor(Math.min(...ys, 0)), Math.ceil(Math.max(...ys, 1))];
  const px = (v: number) => L + ((v - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (v: number) => H - B - ((v - y0) / (y1 - y0 || 1)) * (H - B - T);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="DejaVu Sans, system-ui, sans-serif" font-size="12" style="background-color:${BACKGROUND}">`,
    `<rect class="background" x="0" y="0" width="${W}" height="${H}" fill="${BACKGROUND}"/>`,
    `<text class="title" x="${L}" y="22" font-size="14" font-weight="600" fill="#111827">${esc(chartTitle(info))}</text>`,
    `<text class="subtitle" x="${L}" y="40" font-size="11" fill="#4b5563">${esc(subtitle(info))}</text>`,
    ...warnings
      .slice(0, 3)
      .map(
        (w, i) =>
          `<text class="warning" x="${L}" y="${56 + 14 * i}" font-size="11" fill="#b42318">${esc(`not a quiet run: ${w.split(': ')[0]}`.slice(0, 120))}</text>`,
      ),
  ];
  for (let d = x0; d <= x1; d++)
    parts.push(
      `<line x1="${px(d)}" x2="${px(d)}" y1="${T}" y2="${H - B}" stroke="#e5e7eb"/><text x="${px(d)}" y="${H - B + 16}" text-anchor="middle" fill="#111827">${10 ** d}</text>`,
    );
  for (let d = y0; d <= y1; d++)
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${py(d)}" y2="${py(d)}" stroke="#e5e7eb"/><text x="${L - 6}" y="${py(d) + 4}" text-anchor="end" fill="#111827">${10 ** d}</text>`,
    );
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 18}" text-anchor="middle" fill="#111827">M multiply-accumulates per run (MACs x batch, log)</text>`,
    `<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle" fill="#111827">p50 latency, ms (log)</text>`,
  );
  const points = ok.map((r) => ({ r, x: px(lx((r.macs * r.batch) / 1e6)), y: py(lx(r.p50!)) }));
  // Lines: one per series and architecture, through that model's own points in order of MACs.
  const tracks = new Map<string, typeof points>();
  for (const p of points) {
    const k = `${seriesOf(p.r)}|${p.r.arch}`;
    tracks.set(k, [...(tracks.get(k) ?? []), p]);
  }
  for (const [k, pts] of tracks) {
    if (pts.length < 2) continue;
    const r = pts[0]!.r;
    const coords = [...pts].sort((a, b) => a.x - b.x).map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`);
    parts.push(
      `<polyline class="track" data-track="${esc(k)}" points="${coords.join(' ')}" fill="none" stroke="${ENGINE_COLOR[r.engine]}" stroke-width="1.5"${r.threads > 1 ? '' : ' stroke-dasharray="4 3"'} opacity="0.7"/>`,
    );
  }
  for (const { r, x, y } of points)
    parts.push(
      `${marker(r, x, y, `class="point" data-arch="${esc(r.arch)}" data-engine="${r.engine}" `)}<title>${esc(`${r.arch} ${r.width}/${r.resolution} b${r.batch} ${seriesOf(r)}: ${r.p50!.toFixed(2)} ms`)}</title>${closing(r)}`,
    );
  parts.push(...archLabels(points, { top: T, right: W - R }));
  parts.push(...legend(ok, W - R + 16, T));
  parts.push('</svg>');
  return parts.join('\n');
}

/** The series present, each with its marker and line style, then what the styles mean. */
function legend(ok: readonly Row[], x: number, top: number): string[] {
  const series = new Map<string, Row>();
  for (const r of ok) if (!series.has(seriesOf(r))) series.set(seriesOf(r), r);
  const out: string[] = [];
  let y = top;
  for (const [name, r] of series) {
    const c = ENGINE_COLOR[r.engine];
    out.push(
      `<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="1.5"${r.threads > 1 ? '' : ' stroke-dasharray="4 3"'}/>`,
      `${marker(r, x + 11, y, 'class="legend-marker" ')}${closing(r)}`,
      `<text class="legend" x="${x + 30}" y="${y + 4}" fill="#111827">${esc(name)}</text>`,
    );
    y += 20;
  }
  const notes = [
    'hollow, dashed: 1 thread',
    'filled, solid: 2+ threads',
    ...(ok.some((r) => r.precision) ? ['circle fp32, square fp16, triangle int8'] : []),
    "lines join one model's own points",
    '(widths, resolutions, batches)',
  ];
  for (const n of notes) {
    y += 15;
    out.push(`<text x="${x}" y="${y}" font-size="10.5" fill="#4b5563">${esc(n)}</text>`);
  }
  return out;
}
