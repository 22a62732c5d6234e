// The model at each precision for `pnpm bench --precisions`: core's toFloat16 and quantize, the int8 file calibrated
// on photographs through @mobilenet/tools' calibrate (the model's own preprocessing), written as .onnx files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { type Graph, quantize, toFloat16, toOnnx } from '@mobilenet/core';
import { calibrate } from '@mobilenet/tools';
import type { Cell } from './cell.js';
import { CALIBRATION, PRECISIONS, type Precision } from './precision.js';

export interface PrecisionFile {
  readonly precision: Precision;
  readonly path: string;
  /** Size of the file on disk. */
  readonly bytes: number;
}

/** The files of one model: fp32 (always: the base of the sizes and of SQNR) and every precision asked for. */
export interface PrecisionSet {
  readonly files: readonly PrecisionFile[];
  /** Images the int8 file was calibrated on (0 without int8). */
  readonly images: number;
}

const SCRIPT = join(import.meta.dirname, '../../../tools/images_split.py');
const PYTHON = '/usr/bin/python3';

/**
 * The folder of calibration images: the one given, else photographs from Debian's python3-skimage made once by
 * tools/images_split.py into the temporary folder and kept for later runs.
 */
export function calibrationFolder(given: string | undefined, log: (line: string) => void): string {
  if (given) return given;
  const root = join(os.tmpdir(), 'mobilenet-bench-images');
  const folder = join(root, 'calibration');
  if (existsSync(folder) && readdirSync(folder).length >= 8) return folder;
  log(`calibration images: ${PYTHON} tools/images_split.py ${root}\n`);
  const r = spawnSync(PYTHON, [SCRIPT, root], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `calibration images: ${PYTHON} ${SCRIPT} ${root} failed (${r.error?.message ?? (r.stderr.trim().split('\n').pop() || `exit ${r.status}`)}); it needs Debian's python3-skimage and python3-pil, or pass --calibrate DIR (at least 8 images)`,
    );
  return folder;
}

/** File stem of one model: the cell's model and batch. */
export const stem = (c: Pick<Cell, 'arch' | 'width' | 'resolution' | 'batch'>) =>
  `${c.arch}-w${c.width}-r${c.resolution}-b${c.batch}`;

/** Writes the model at each precision into `dir` (fp32 always, as the base of the size ratios). */
export async function writePrecisions(
  graph: Graph,
  precisions: readonly Precision[],
  dir: string,
  name: string,
  calibrationDir: string | undefined,
  log: (line: string) => void,
): Promise<PrecisionSet> {
  mkdirSync(dir, { recursive: true });
  let images = 0;
  const files: PrecisionFile[] = [];
  for (const precision of PRECISIONS.filter((p) => p === 'fp32' || precisions.includes(p))) {
    let g = graph;
    if (precision === 'fp16') g = toFloat16(graph);
    if (precision === 'int8') {
      const c = await calibrate(graph, calibrationDir!, CALIBRATION);
      images = c.ranges.images;
      const skipped = c.skipped.length ? `; skipped ${c.skipped.map((k) => `${k.file} (${k.reason})`).join(', ')}` : '';
      log(`${name}: int8 calibrated on ${images} images from ${calibrationDir} (${CALIBRATION.method})${skipped}\n`);
      g = quantize(graph, c.ranges);
    }
    const bytes = toOnnx(g);
    const path = join(dir, `${name}-${precision}.onnx`);
    writeFileSync(path, bytes);
    files.push({ precision, path, bytes: bytes.length });
  }
  return { files, images };
}
