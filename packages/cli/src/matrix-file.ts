import { closeSync, existsSync, fstatSync, ftruncateSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { FILE_CAPS, openRegularSync } from '@mobilenet/runtime-node';
import { optionError, quotePath } from './errors.js';
import { openOutput, writeAll } from './io.js';

/**
 * A float32 matrix [rows, width] written row by row to .npy or .safetensors, with its header rewritten in place
 * (same length, padded with spaces) after every batch of rows: the file is valid at every moment, so an
 * interrupted run leaves a readable file of the rows done so far, and `--resume` appends to it.
 */
export type MatrixFormat = 'npy' | 'safetensors';

export function matrixFormat(path: string, option: string): MatrixFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return 'npy';
  if (ext === '.safetensors') return 'safetensors';
  throw optionError(option, 'a file ending in .npy or .safetensors', quotePath(path));
}

/** The largest count a header is sized for, so that it never changes length as rows are added. */
const MAX = 2 ** 53 - 1;

function npyHeader(rows: number, width: number): Buffer {
  const dictFor = (r: number) => `{'descr': '<f4', 'fortran_order': False, 'shape': (${r}, ${width}), }`;
  const dict = dictFor(rows);
  // magic (6) + version (2) + length (2) + dict, padded with spaces to a multiple of 64 and ending in '\n'.
  const total = Math.ceil((10 + dictFor(MAX).length + 1) / 64) * 64;
  const text = `${dict}${' '.repeat(total - 10 - dict.length - 1)}\n`;
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, 'latin1')]);
}

function safetensorsHeader(rows: number, width: number): Buffer {
  const jsonFor = (r: number, bytes: number) =>
    JSON.stringify({ embeddings: { dtype: 'F32', shape: [r, width], data_offsets: [0, bytes] } });
  const json = jsonFor(rows, rows * width * 4);
  // The format allows trailing spaces in the header; its length is a multiple of 8 so the data stays aligned.
  const len = Math.ceil(jsonFor(MAX, MAX).length / 8) * 8;
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(len));
  return Buffer.concat([head, Buffer.from(json.padEnd(len, ' '), 'latin1')]);
}

const header = (format: MatrixFormat, rows: number, width: number) =>
  format === 'npy' ? npyHeader(rows, width) : safetensorsHeader(rows, width);

/**
 * Rows and width of a file this class wrote (for --resume), or why it is not one. The header is parsed and then
 * written again from the numbers it gave: anything but byte-for-byte our own header (another dtype, Fortran order,
 * extra keys, a different padding) is not ours. A header that claims more rows than the file holds is refused.
 */
function readShape(
  fd: number,
  format: MatrixFormat,
): { rows: number; width: number; headerBytes: number } | { why: string } {
  const buf = Buffer.alloc(4096);
  const n = readSync(fd, buf, 0, buf.length, 0);
  const text = buf.subarray(0, n).toString('latin1');
  const m =
    format === 'npy'
      ? /^\x93NUMPY\x01\x00..\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d{1,16}), (\d{1,16})\), \}/s.exec(
          text,
        )
      : /^.{8}\{"embeddings":\{"dtype":"F32","shape":\[(\d{1,16}),(\d{1,16})\],"data_offsets":\[0,\d{1,17}\]\}\}/s.exec(
          text,
        );
  if (!m) return { why: `its header is not a float32 matrix header written by mobilenet embed` };
  const [rows, width] = [Number(m[1]), Number(m[2])];
  if (!Number.isSafeInteger(rows * width * 4)) return { why: `its header claims ${rows} rows of ${width}` };
  const h = header(format, rows, width);
  if (h.length > n || !h.equals(buf.subarray(0, h.length)))
    return { why: `its header is not byte for byte the one mobilenet embed writes for ${rows} rows of ${width}` };
  const size = fstatSync(fd).size;
  const need = h.length + rows * width * 4;
  if (size < need)
    return {
      why: `is ${size} bytes, but its header's ${rows} rows of ${width} float32 need ${need} (the file was cut short, or its header lies)`,
    };
  return { rows, width, headerBytes: h.length };
}

export class MatrixWriter {
  private readonly fd: number;
  private rows: number;
  private width: number;
  private headerBytes: number;

  /**
   * Opens `path` for writing (created or emptied, never through a link), or with `resume` for appending to the rows
   * already there (returned in `count`); a file that is not one of ours, or is shorter than its header says, is
   * refused with the reason and left as it is.
   */
  constructor(
    readonly path: string,
    readonly format: MatrixFormat,
    resume: boolean,
    option: string,
  ) {
    if (resume && existsSync(path)) {
      this.fd = openRegularSync(path, {
        what: `a ${format} file written by mobilenet embed`,
        maxBytes: Number.MAX_SAFE_INTEGER,
        noFollow: true,
        update: true,
      });
      const shape = readShape(this.fd, format);
      if ('why' in shape) {
        closeSync(this.fd);
        throw new Error(
          `${option} --resume: ${quotePath(path)} ${shape.why}; it was left as it is (start over with --force, or write to another file)`,
        );
      }
      ({ rows: this.rows, width: this.width, headerBytes: this.headerBytes } = shape);
      // Rows beyond the header's count are a batch that was being written: dropped, and redone.
      ftruncateSync(this.fd, this.headerBytes + this.rows * this.width * 4);
    } else {
      this.fd = openOutput(path, 'truncate');
      this.rows = 0;
      this.width = 0;
      this.headerBytes = 0;
    }
  }

  get count(): number {
    return this.rows;
  }

  /** Keeps only the first `rows` rows (resume: the file list is the authority on what was finished). */
  keep(rows: number): void {
    if (rows >= this.rows) return;
    this.rows = rows;
    ftruncateSync(this.fd, this.headerBytes + rows * this.width * 4);
    writeAll(this.fd, header(this.format, rows, this.width), this.path, 0);
  }

  /**
   * Appends rows (a whole batch) and then rewrites the header to count them: the header never counts a row whose
   * bytes were not all written (a full disk is an error naming the file, and the file keeps its earlier rows).
   */
  append(batch: readonly Float32Array[]): void {
    if (batch.length === 0) return;
    // A new file, or a resumed one that holds no row yet (its header says width 0): the first row sets the width.
    if (this.headerBytes === 0 || this.rows === 0) {
      this.width = batch[0]!.length;
      const h = header(this.format, 0, this.width);
      writeAll(this.fd, h, this.path, 0);
      this.headerBytes = h.length;
    }
    let at = this.headerBytes + this.rows * this.width * 4;
    for (const row of batch) {
      if (row.length !== this.width)
        throw new Error(`${quotePath(this.path)}: a row of ${row.length} values, expected ${this.width}`);
      writeAll(this.fd, new Uint8Array(row.buffer, row.byteOffset, row.byteLength), this.path, at);
      at += row.byteLength;
    }
    this.rows += batch.length;
    const h = header(this.format, this.rows, this.width);
    if (h.length !== this.headerBytes)
      throw new Error(`${quotePath(this.path)}: header grew past its reserved room at ${this.rows} rows`);
    writeAll(this.fd, h, this.path, 0);
  }

  close(): void {
    if (this.headerBytes === 0) writeAll(this.fd, header(this.format, 0, 0), this.path, 0);
    closeSync(this.fd);
  }
}

/** Reads a matrix file back: [rows, width] and the values (for tests and tools). */
export function readMatrix(path: string, format: MatrixFormat): { rows: number; width: number; data: Float32Array } {
  const fd = openRegularSync(path, { what: `a ${format} file`, maxBytes: FILE_CAPS.model });
  try {
    const shape = readShape(fd, format);
    if ('why' in shape) throw new Error(`${quotePath(path)}: ${shape.why}`);
    const data = new Float32Array(shape.rows * shape.width);
    readSync(fd, new Uint8Array(data.buffer), 0, data.byteLength, shape.headerBytes);
    return { rows: shape.rows, width: shape.width, data };
  } finally {
    closeSync(fd);
  }
}
