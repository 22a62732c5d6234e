import { closeSync, mkdirSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Embedding shards on shared storage: one float32 .npy [rows, width] per chunk attempt a worker finished, written to
 * a temporary name and renamed (a reader never sees half a shard), with a manifest beside it naming each row's image
 * hash. Redis keeps only where a row is (about 100 bytes per image instead of 4 bytes per float); the producer merges
 * the rows into OUT in input order.
 */
export function writeShard(
  dir: string,
  name: string,
  rows: readonly Float32Array[],
  hashes: readonly string[],
): string {
  mkdirSync(dir, { recursive: true });
  const width = rows[0]?.length ?? 0;
  const header = npyHeader([rows.length, width]);
  const body = Buffer.allocUnsafe(rows.length * width * 4);
  rows.forEach((r, i) => {
    if (r.length !== width) throw new Error(`shard ${name}: row ${i} has ${r.length} values, not ${width}`);
    Buffer.from(r.buffer, r.byteOffset, r.byteLength).copy(body, i * width * 4);
  });
  const file = `${name}.npy`;
  const tmp = join(dir, `.${file}.${process.pid}.tmp`);
  writeFileSync(tmp, Buffer.concat([header, body]));
  renameSync(tmp, join(dir, file));
  const manifest = { format: 'mobilenet-fleet-shard/1', shard: file, rows: rows.length, width, hashes };
  const mtmp = join(dir, `.${name}.json.${process.pid}.tmp`);
  writeFileSync(mtmp, `${JSON.stringify(manifest)}\n`);
  renameSync(mtmp, join(dir, `${name}.json`));
  return file;
}

/** The .npy v1.0 header of a little-endian float32 C-order matrix, padded to a multiple of 64 bytes. */
function npyHeader(shape: readonly number[]): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const text = `${dict.padEnd(total - 10 - 1, ' ')}\n`;
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, 'latin1')]);
}

/** Reads rows out of shards, keeping one open file per shard. */
export class ShardReader {
  private readonly open = new Map<string, { fd: number; offset: number; width: number }>();
  constructor(private readonly dir: string) {}

  row(shard: string, row: number): Float32Array {
    const f = this.file(shard);
    const buf = Buffer.allocUnsafe(f.width * 4);
    const n = readSync(f.fd, buf, 0, buf.length, f.offset + row * f.width * 4);
    if (n !== buf.length) throw new Error(`shard ${join(this.dir, shard)} has no row ${row}`);
    return new Float32Array(buf.buffer, buf.byteOffset, f.width);
  }

  private file(shard: string) {
    let f = this.open.get(shard);
    if (!f) {
      if (shard.includes('/') || shard.startsWith('.')) throw new Error(`a shard name with a folder in it: '${shard}'`);
      const fd = openSync(join(this.dir, shard), 'r');
      const head = Buffer.alloc(10);
      readSync(fd, head, 0, 10, 0);
      if (head.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${join(this.dir, shard)} is not a .npy file`);
      const len = head.readUInt16LE(8);
      const text = Buffer.alloc(len);
      readSync(fd, text, 0, len, 10);
      const shape = /'shape': \((\d+), (\d+)\)/.exec(text.toString('latin1'));
      if (!shape) throw new Error(`${join(this.dir, shard)}: not a 2-D float32 matrix`);
      f = { fd, offset: 10 + len, width: Number(shape[2]) };
      this.open.set(shard, f);
    }
    return f;
  }

  close(): void {
    for (const f of this.open.values()) closeSync(f.fd);
    this.open.clear();
  }
}
