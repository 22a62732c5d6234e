import { CheckpointError } from './tensor.js';

/** The entries of a zip archive as views into its bytes. Only stored (uncompressed) entries, as torch.save writes. */
export function readZip(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new CheckpointError(source, 'a zip archive (PyTorch >= 1.6 checkpoint)', 'no end-of-central-directory record (truncated or not a zip)');
  let count = dv.getUint16(eocd + 10, true);
  let cd = dv.getUint32(eocd + 16, true);
  if (cd === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) throw new CheckpointError(source, 'a zip64 locator', 'none');
    const e64 = Number(dv.getBigUint64(loc + 8, true));
    count = Number(dv.getBigUint64(e64 + 32, true));
    cd = Number(dv.getBigUint64(e64 + 48, true));
  }
  const entries = new Map<string, Uint8Array>();
  let p = cd;
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== 0x02014b50) throw new CheckpointError(source, `central directory entry ${i}`, 'corrupt data (truncated file?)');
    const method = dv.getUint16(p + 10, true);
    let size = dv.getUint32(p + 20, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field: the 64-bit sizes and offset that did not fit.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (dv.getUint32(p + 24, true) === 0xffffffff) q += 8;
        if (size === 0xffffffff) (size = Number(dv.getBigUint64(q, true))), (q += 8);
        if (local === 0xffffffff) local = Number(dv.getBigUint64(q, true));
      }
      e += 4 + len;
    }
    if (method !== 0) throw new CheckpointError(`${source}: zip entry '${name}'`, 'a stored (uncompressed) entry, as torch.save writes', `compression method ${method}; re-save it with torch.save`);
    if (local + 30 > bytes.length || dv.getUint32(local, true) !== 0x04034b50) throw new CheckpointError(`${source}: zip entry '${name}'`, 'a local header', 'corrupt data');
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + size > bytes.length) throw new CheckpointError(`${source}: zip entry '${name}'`, `${size} bytes of data`, `${bytes.length - start} (truncated file)`);
    entries.set(name, bytes.subarray(start, start + size));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
