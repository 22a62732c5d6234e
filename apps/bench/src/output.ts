// What a run leaves behind: its JSON, the chart and the Markdown table, written from one Results object, so that a
// chart re-rendered later (--render) comes from the same numbers and the same machine as the run's own.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEFAULT_OUT } from './args.js';
import { svg } from './chart.js';
import { type Machine, describeMachine } from './machine.js';
import type { Peak } from './peak.js';
import { type Row, markdown } from './report.js';

/** The JSON a run writes. Fields after `machine` and `rows` are absent in files written by older versions. */
export interface Results {
  readonly date?: string;
  readonly machine: Machine;
  /** The peaks "% peak" is against: the higher of before and after at each thread count. */
  readonly peaks?: readonly Peak[];
  readonly peaksBefore?: readonly Peak[];
  readonly peaksAfter?: readonly Peak[];
  readonly loadAverage?: { readonly start: readonly number[]; readonly end: readonly number[] };
  /** Why the run was not quiet (quiet.ts); empty when it was. */
  readonly warnings?: readonly string[];
  /** The lines the reports print: the machine with its peaks, and the options with the load. */
  readonly machineLine?: string;
  readonly optionsLine?: string;
  readonly options: unknown;
  readonly rows: readonly Row[];
}

/** Where the files go: the chart beside --json, else --svg, else the default folder (with its JSON beside it). */
export function outputPaths(o: { json?: string; svg?: string; md?: string }): {
  json?: string;
  svg: string;
  md?: string;
} {
  if (o.svg) return { ...(o.json && { json: o.json }), svg: o.svg, ...(o.md && { md: o.md }) };
  if (o.json) return { json: o.json, svg: `${o.json.replace(/\.json$/, '')}.svg`, ...(o.md && { md: o.md }) };
  return { json: `${DEFAULT_OUT}/latest.json`, svg: `${DEFAULT_OUT}/latest.svg`, ...(o.md && { md: o.md }) };
}

function write(file: string, text: string): string {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, text);
  return resolve(file);
}

/** Writes the files a run asked for; returns one line per file saying where it went and what it is. */
export function writeOutputs(results: Results, paths: { json?: string; svg: string; md?: string }): string[] {
  const said: string[] = [];
  if (paths.json) said.push(`wrote results (JSON): ${write(paths.json, `${JSON.stringify(results, null, 1)}\n`)}`);
  said.push(`wrote the chart (p50 latency vs MACs, SVG): ${write(paths.svg, svg(results.rows, results))}`);
  if (paths.md) {
    const machineLine = results.machineLine ?? describeMachine(results.machine);
    const text = markdown(results.rows, machineLine, results.optionsLine ?? '', results.warnings);
    said.push(`wrote the table (Markdown): ${write(paths.md, text)}`);
  }
  return said;
}

/** --render: the chart (and Markdown, given --md) of an earlier run, from its JSON; nothing is timed. */
export function render(json: string, o: { svg?: string; md?: string }): string[] {
  const results = JSON.parse(readFileSync(json, 'utf8')) as Results;
  const svgPath = o.svg ?? `${json.replace(/\.json$/, '')}.svg`;
  return writeOutputs(results, { svg: svgPath, ...(o.md && { md: o.md }) });
}
