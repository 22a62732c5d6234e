import type { Report } from '@mobilenet/core';
import { formatConfusion } from '@mobilenet/core';

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Per-class precision, recall, F1 and support, then the confusion matrix, as aligned text. */
export function reportText(report: Report, classes: string[]): string {
  const width = Math.max(5, ...classes.map((c) => c.length));
  const head = `${'class'.padEnd(width)}  precision  recall      f1  support`;
  const rows = report.perClass.map(
    (r) =>
      `${r.class.padEnd(width)}  ${pct(r.precision).padStart(9)}  ${pct(r.recall).padStart(6)}  ${pct(r.f1).padStart(6)}  ${String(r.support).padStart(7)}`,
  );
  const macro = `${'macro'.padEnd(width)}  ${pct(report.macro.precision).padStart(9)}  ${pct(report.macro.recall).padStart(6)}  ${pct(report.macro.f1).padStart(6)}`;
  return `${[head, ...rows, macro].join('\n')}\n\nconfusion matrix (rows: true class, columns: predicted)\n${formatConfusion(report.confusion, classes)}\n`;
}

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
const short = (s: string) => (s.length > 18 ? `${s.slice(0, 17)}…` : s);

/**
 * The confusion matrix as an SVG heat map: each cell shaded by its share of the true class's images (its row), with
 * its count; the diagonal (right answers) in blue, the rest in red, so mistakes stand out.
 */
export function confusionSvg(confusion: Int32Array, classes: string[], title: string): string {
  const k = classes.length;
  const cell = Math.max(14, Math.min(48, Math.floor(560 / k)));
  const label = Math.min(140, 8 + 7 * Math.max(...classes.map((c) => short(c).length)));
  const left = label + 30;
  const top = label + 50;
  const size = k * cell;
  const w = left + size + 20;
  const h = top + size + 20;
  const font = Math.max(8, Math.min(13, cell / 3));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${w / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<text x="${left + size / 2}" y="40" text-anchor="middle" font-size="12">predicted</text>`,
    `<text transform="translate(14 ${top + size / 2}) rotate(-90)" text-anchor="middle" font-size="12">true class</text>`,
  ];
  for (let i = 0; i < k; i++) {
    let total = 0;
    for (let j = 0; j < k; j++) total += confusion[i * k + j]!;
    const name = escapeXml(short(classes[i]!));
    const y = top + i * cell;
    parts.push(
      `<text x="${left - 6}" y="${y + cell / 2 + font / 3}" text-anchor="end" font-size="${font}">${name}</text>`,
      `<text transform="translate(${left + i * cell + cell / 2 + font / 3} ${top - 6}) rotate(-90)" font-size="${font}">${name}</text>`,
    );
    for (let j = 0; j < k; j++) {
      const v = confusion[i * k + j]!;
      const share = total ? v / total : 0;
      const hue = i === j ? '33,102,172' : '178,24,43';
      const x = left + j * cell;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${hue})" fill-opacity="${(0.05 + 0.95 * share).toFixed(3)}" stroke="#ccc"/>`,
      );
      if (v)
        parts.push(
          `<text x="${x + cell / 2}" y="${y + cell / 2 + font / 3}" text-anchor="middle" font-size="${font}" fill="${share > 0.5 ? 'white' : 'black'}">${v}</text>`,
        );
    }
  }
  parts.push('</svg>\n');
  return parts.join('\n');
}
