import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { extname } from 'node:path';
import { optionError, quotePath } from './errors.js';

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

/** Rows and width of a file this class wrote (for --resume); null if it is not one. */
function readShape(fd: number, format: MatrixFormat): { rows: number; width: number; headerBytes: number } | null {
  const buf = Buffer.alloc(4096);
  const n = readSync(fd, buf, 0, buf.length, 0);
  const text = buf.subarray(0, n).toString('latin1');
  if (format === 'npy') {
    const m = /^\x93NUMPY\x01\x00/.test(text) && /'descr': '<f4'.*'shape': \((\d+), (\d+)\)/.exec(text);
    return m ? { rows: Number(m[1]), width: Number(m[2]), headerBytes: 10 + buf.readUInt16LE(8) } : null;
  }
  const len = n >= 8 ? Number(buf.readBigUInt64LE(0)) : 0;
  const m = len > 0 && len < n && /"embeddings":\{"dtype":"F32","shape":\[(\d+),(\d+)\]/.exec(text.slice(8, 8 + len));
  return m ? { rows: Number(m[1]), width: Number(m[2]), headerBytes: 8 + len } : null;
}

export class MatrixWriter {
  private readonly fd: number;
  private rows: number;
  private width: number;
  private headerBytes: number;

  /** Opens `path` for writing, or with `resume` for appending to the rows already there (returned in `rows`). */
  constructor(
    readonly path: string,
    readonly format: MatrixFormat,
    resume: boolean,
    option: string,
  ) {
    if (resume && existsSync(path)) {
      this.fd = openSync(path, 'r+');
      const shape = readShape(this.fd, format);
      if (!shape)
        throw optionError(
          option,
          `a ${format} file of float32 rows written by mobilenet embed to resume`,
          quotePath(path),
        );
      ({ rows: this.rows, width: this.width, headerBytes: this.headerBytes } = shape);
      // Rows beyond the header's count are a batch that was being written: dropped, and redone.
      ftruncateSync(this.fd, this.headerBytes + this.rows * this.width * 4);
    } else {
      this.fd = openSync(path, 'w');
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
    const h = header(this.format, rows, this.width);
    writeSync(this.fd, h, 0, h.length, 0);
  }

  /** Appends rows (a whole batch) and then rewrites the header to count them. */
  append(batch: readonly Float32Array[]): void {
    if (batch.length === 0) return;
    if (this.headerBytes === 0) {
      this.width = batch[0]!.length;
      const h = header(this.format, 0, this.width);
      writeSync(this.fd, h, 0, h.length, 0);
      this.headerBytes = h.length;
    }
    let at = this.headerBytes + this.rows * this.width * 4;
    for (const row of batch) {
      if (row.length !== this.width)
        throw new Error(`${this.path}: a row of ${row.length} values, expected ${this.width}`);
      at += writeSync(this.fd, new Uint8Array(row.buffer, row.byteOffset, row.byteLength), 0, row.byteLength, at);
    }
    this.rows += batch.length;
    const h = header(this.format, this.rows, this.width);
    if (h.length !== this.headerBytes)
      throw new Error(`${this.path}: header grew past its reserved room at ${this.rows} rows`);
    writeSync(this.fd, h, 0, h.length, 0);
  }

  close(): void {
    if (this.headerBytes === 0) {
      const h = header(this.format, 0, 0);
      writeSync(this.fd, h, 0, h.length, 0);
    }
    closeSync(this.fd);
  }
}

/** Reads a matrix file back: [rows, width] and the values (for tests and tools). */
export function readMatrix(path: string, format: MatrixFormat): { rows: number; width: number; data: Float32Array } {
  const fd = openSync(path, 'r');
  try {
    const shape = readShape(fd, format);
    if (!shape) throw new Error(`${path}: not a ${format} float32 matrix`);
    const bytes = readFileSync(path).subarray(shape.headerBytes, shape.headerBytes + shape.rows * shape.width * 4);
    if (fstatSync(fd).size < shape.headerBytes + bytes.length) throw new Error(`${path}: shorter than its header says`);
    return {
      rows: shape.rows,
      width: shape.width,
      data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)),
    };
  } finally {
    closeSync(fd);
  }
}
