import type { ProfileRow } from './profile.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** A text table: name, ms per run, share of time, share of MACs, and time share over MAC share (>1: slower than its MACs). */
export function formatProfile(rows: readonly ProfileRow[], title: string): string {
  const w = Math.max(title.length, ...rows.map((r) => r.name.length));
  const head = `${title.padEnd(w)}  ${'ms/run'.padStart(8)}  ${'time'.padStart(6)}  ${'MACs'.padStart(6)}  ${'time/MACs'.padStart(9)}`;
  const lines = rows.map((r) => {
    const ratio = r.macShare > 0 ? (r.timeShare / r.macShare).toFixed(2) : '-';
    return `${r.name.padEnd(w)}  ${r.ms.toFixed(3).padStart(8)}  ${pct(r.timeShare).padStart(6)}  ${pct(r.macShare).padStart(6)}  ${ratio.padStart(9)}`;
  });
  return [head, '-'.repeat(head.length), ...lines].join('\n');
}

/** Horizontal bars, two per row (time share, MAC share), as a standalone SVG. */
export function shareChart(rows: readonly ProfileRow[], title: string): string {
  const label = 150;
  const width = 460;
  const rowH = 22;
  const top = 44;
  const max = Math.max(1e-9, ...rows.flatMap((r) => [r.timeShare, r.macShare]));
  const bars = rows.map((r, i) => {
    const y = top + i * rowH;
    const t = (r.timeShare / max) * width;
    const m = (r.macShare / max) * width;
    return [
      `<text x="${label - 6}" y="${y + 13}" text-anchor="end">${esc(r.name)}</text>`,
      `<rect x="${label}" y="${y + 2}" width="${t.toFixed(1)}" height="8" fill="#d95f02"><title>time ${pct(r.timeShare)}</title></rect>`,
      `<rect x="${label}" y="${y + 11}" width="${m.toFixed(1)}" height="8" fill="#1b9e77"><title>MACs ${pct(r.macShare)}</title></rect>`,
      `<text x="${label + Math.max(t, m) + 4}" y="${y + 13}" fill="#555">${pct(r.timeShare)} / ${pct(r.macShare)}</text>`,
    ].join('');
  });
  return svg(label + width + 110, top + rows.length * rowH + 10, title, [
    `<rect x="${label}" y="22" width="10" height="8" fill="#d95f02"/><text x="${label + 14}" y="30">share of kernel time</text>`,
    `<rect x="${label + 170}" y="22" width="10" height="8" fill="#1b9e77"/><text x="${label + 184}" y="30">share of MACs</text>`,
    ...bars,
  ]);
}

/** Pipeline stages per image (ms), one stacked bar: where an image's time goes from file to classes. */
export function stagesChart(stages: Readonly<Record<string, number>>, title: string): string {
  const colors = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02'];
  const entries = Object.entries(stages);
  const total = entries.reduce((a, [, v]) => a + v, 0) || 1;
  const width = 600;
  let x = 10;
  const parts = entries.map(([name, v], i) => {
    const w = (v / total) * width;
    const part =
      `<rect x="${x.toFixed(1)}" y="30" width="${w.toFixed(1)}" height="24" fill="${colors[i % colors.length]}"><title>${esc(name)} ${v.toFixed(2)} ms</title></rect>` +
      `<rect x="10" y="${70 + i * 18}" width="10" height="10" fill="${colors[i % colors.length]}"/><text x="26" y="${79 + i * 18}">${esc(name)}: ${v.toFixed(2)} ms per image (${pct(v / total)})</text>`;
    x += w;
    return part;
  });
  return svg(width + 20, 80 + entries.length * 18, title, parts);
}

function svg(w: number, h: number, title: string, body: string[]): string {
  w = Math.max(w, 20 + Math.ceil(title.length * 7.5)); // a long title widens the picture rather than being cut
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">\n<text x="10" y="14" font-size="13" font-weight="bold">${esc(title)}</text>\n${body.join('\n')}\n</svg>\n`;
}
