import { CheckpointError, guarded } from './tensor.js';

/**
 * The entries of a zip archive as views into its bytes. Only stored (uncompressed) entries, as torch.save writes.
 * Every offset the archive claims is checked against its length before it is read.
 */
export function readZip(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  return guarded(source, 'a zip archive', () => read(bytes, source));
}

function read(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = (where: string, offset: number, length: number) => {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > bytes.length) {
      throw new CheckpointError(
        `${source}: ${where}`,
        `${length} bytes at offset ${offset} inside the ${bytes.length}-byte file`,
        'an offset past its end (truncated or corrupt zip)',
      );
    }
    return offset;
  };
  const u16 = (where: string, o: number) => dv.getUint16(at(where, o, 2), true);
  const u32 = (where: string, o: number) => dv.getUint32(at(where, o, 4), true);
  const u64 = (where: string, o: number) => {
    const v = dv.getBigUint64(at(where, o, 8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new CheckpointError(`${source}: ${where}`, 'a 64-bit size or offset below 2^53', `${v}`);
    return Number(v);
  };
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    throw new CheckpointError(
      source,
      'a zip archive (PyTorch >= 1.6 checkpoint)',
      'no end-of-central-directory record (truncated or not a zip)',
    );
  let count = u16('end of central directory', eocd + 10);
  let cd = u32('end of central directory', eocd + 16);
  if (cd === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) throw new CheckpointError(source, 'a zip64 locator', 'none');
    const e64 = u64('zip64 locator', loc + 8);
    if (u32('zip64 end of central directory', e64) !== 0x06064b50)
      throw new CheckpointError(
        `${source}: zip64 end of central directory`,
        'its signature',
        'other bytes (corrupt zip)',
      );
    count = u64('zip64 end of central directory', e64 + 32);
    cd = u64('zip64 end of central directory', e64 + 48);
  }
  const entries = new Map<string, Uint8Array>();
  let p = cd;
  for (let i = 0; i < count; i++) {
    const where = `central directory entry ${i}`;
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== 0x02014b50)
      throw new CheckpointError(source, where, 'corrupt data (truncated file?)');
    const method = dv.getUint16(p + 10, true);
    let size = dv.getUint32(p + 20, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(at(where, p + 46, nameLen), p + 46 + nameLen));
    const entry = `zip entry '${name.slice(0, 200)}'`;
    // zip64 extra field: the 64-bit sizes and offset that did not fit.
    const extraEnd = at(where, p + 46 + nameLen, extraLen) + extraLen;
    for (let e = p + 46 + nameLen; e + 4 <= extraEnd; ) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (dv.getUint32(p + 24, true) === 0xffffffff) q += 8;
        if (size === 0xffffffff) (size = u64(entry, q)), (q += 8);
        if (local === 0xffffffff) local = u64(entry, q);
      }
      e += 4 + len;
    }
    if (method !== 0)
      throw new CheckpointError(
        `${source}: ${entry}`,
        'a stored (uncompressed) entry, as torch.save writes',
        `compression method ${method}; re-save it with torch.save`,
      );
    if (local + 30 > bytes.length || dv.getUint32(local, true) !== 0x04034b50)
      throw new CheckpointError(`${source}: ${entry}`, 'a local header', 'corrupt data');
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + size > bytes.length)
      throw new CheckpointError(
        `${source}: ${entry}`,
        `${size} bytes of data`,
        `${Math.max(0, bytes.length - start)} (truncated file)`,
      );
    entries.set(name, bytes.subarray(start, start + size));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
