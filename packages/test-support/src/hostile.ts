// Hostile inputs, generated small: images whose headers claim what their bytes do not hold, files that are not
// files. Nothing here is committed as a fixture file; tests make what they need in a temporary folder.
import { crc32, deflateSync } from 'node:zlib';

/** Bits into bytes, with JPEG's byte stuffing (a 0xff data byte is followed by 0x00) and 1-bit padding at the end. */
class BitWriter {
  private readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;
  put(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >>> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0);
    this.acc = 0;
    this.n = 0;
  }
  done(): number[] {
    if (this.n > 0) this.put(0xff, 8 - this.n);
    return this.bytes;
  }
}

const segment = (marker: number, body: number[]) => [
  0xff,
  marker,
  (body.length + 2) >> 8,
  (body.length + 2) & 0xff,
  ...body,
];

/**
 * A progressive JPEG of `width` x `height` (one grey component) with `scans` scans, all legal in form: a DC scan,
 * then AC scans of one coefficient each, every block coded as an end-of-band run (a few bytes per scan however big
 * the image). libjpeg visits every block in every scan: thousands of scans over a large frame take minutes.
 */
export function manyScanJpeg(width: number, height: number, scans: number): Uint8Array {
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const out: number[] = [0xff, 0xd8];
  out.push(...segment(0xdb, [0x00, ...new Array<number>(64).fill(1)])); // DQT: table 0, all 1
  out.push(...segment(0xc2, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0])); // SOF2
  // DC table: category 0 as the one 1-bit code. AC table: the 15 end-of-band runs EOB0..EOB14, 4-bit codes 0..14.
  const dcTable = [0x00, 1, ...new Array<number>(15).fill(0), 0x00];
  const acTable = [
    0x10,
    0,
    0,
    0,
    15,
    ...new Array<number>(12).fill(0),
    ...Array.from({ length: 15 }, (_, r) => r << 4),
  ];
  out.push(...segment(0xc4, [...dcTable, ...acTable]));
  // DC scan: every block's difference is 0 (one bit each).
  out.push(...segment(0xda, [1, 1, 0x00, 0, 0, 0x00]));
  const dc = new BitWriter();
  for (let b = 0; b < blocks; b++) dc.put(0, 1);
  for (const b of dc.done()) out.push(b);
  for (let s = 1; s < scans; s++) {
    // Coefficient k, first pass at Al=13 then refinements down to 0, coefficient after coefficient: the order a
    // legal successive-approximation progression takes (63 coefficients x 14 passes = 882 scans per component).
    const k = 1 + (Math.floor((s - 1) / 14) % 63);
    const pass = (s - 1) % 14;
    const ahal = pass === 0 ? 13 : ((14 - pass) << 4) | (13 - pass);
    out.push(...segment(0xda, [1, 1, 0x00, k, k, ahal]));
    const ac = new BitWriter();
    for (let left = blocks; left > 0; ) {
      const run = Math.min(left, 32767);
      const r = Math.floor(Math.log2(run));
      ac.put(r, 4); // EOBr, then r bits: a run of 2^r + those bits
      if (r > 0) ac.put(run - 2 ** r, r);
      left -= run;
    }
    for (const b of ac.done()) out.push(b);
  }
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

/** PNG chunk: length, type, data, CRC. */
function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A valid grey PNG of `width` x `height`, all black, small on disk: rows of zeros compress about 1000:1. With
 * `claimOnly`, the IDAT holds one row only (the header's size is all a size check reads).
 */
export function blackPng(width: number, height: number, claimOnly = false): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  const rows = claimOnly ? 1 : height;
  const raw = Buffer.alloc(rows * (width + 1)); // filter byte 0 and width zero samples per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** An SVG of 16 x 16 that embeds, as a data: URL, a PNG declaring `width` x `height` (librsvg decodes it whole). */
export function svgEmbeddingPng(width: number, height: number): Buffer {
  const png = blackPng(width, height, true).toString('base64');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="16" height="16">` +
      `<image width="${width}" height="${height}" xlink:href="data:image/png;base64,${png}"/></svg>`,
  );
}

/** An SVG whose whole canvas is an feTurbulence filter: librsvg computes noise for every pixel. */
export function svgTurbulence(width: number, height: number): Buffer {
  return Buffer.from(
    `<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<filter id="t"><feTurbulence baseFrequency="0.9" numOctaves="10"/></filter>` +
      `<rect width="100%" height="100%" filter="url(#t)"/></svg>`,
  );
}

/** Little-endian TIFF: 8-bit grey, one strip, `compression` (8 = Deflate of zeros), and `pages` page directories. */
export function greyTiff(
  width: number,
  height: number,
  o: { compression?: number; pages?: number; loop?: boolean } = {},
): Buffer {
  const compression = o.compression ?? 8;
  const pixels = compression === 8 ? deflateSync(Buffer.alloc(width * height)) : Buffer.alloc(16);
  const entries: [number, number, number][] = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, 8],
    [259, 3, compression],
    [262, 3, 1], // BlackIsZero
    [273, 4, 8], // StripOffsets: right after the header
    [277, 3, 1],
    [278, 4, height],
    [279, 4, pixels.length],
  ];
  const ifdSize = 2 + 12 * entries.length + 4;
  const pages = o.pages ?? 1;
  const first = 8 + pixels.length + ((8 + pixels.length) % 2);
  const out = Buffer.alloc(first + pages * ifdSize);
  out.write('II*\0', 0, 'latin1');
  out.writeUInt32LE(first, 4);
  pixels.copy(out, 8);
  for (let p = 0; p < pages; p++) {
    const at = first + p * ifdSize;
    out.writeUInt16LE(entries.length, at);
    entries.forEach(([tag, type, value], i) => {
      const e = at + 2 + 12 * i;
      out.writeUInt16LE(tag, e);
      out.writeUInt16LE(type, e + 2);
      out.writeUInt32LE(1, e + 4);
      if (type === 3) out.writeUInt16LE(value, e + 8);
      else out.writeUInt32LE(value, e + 8);
    });
    const last = p === pages - 1;
    out.writeUInt32LE(last ? (o.loop ? first : 0) : at + ifdSize, at + ifdSize - 4);
  }
  return out;
}

/** Protocol-buffer fields, enough of the wire format to write ONNX models by hand (no protobuf library). */
const varint = (n: number | bigint): number[] => {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return out;
};
const field = {
  int: (no: number, v: number | bigint) => [...varint(no << 3), ...varint(v)],
  bytes: (no: number, b: number[] | Uint8Array) => [...varint((no << 3) | 2), ...varint(b.length), ...b],
  str: (no: number, s: string) => field.bytes(no, [...Buffer.from(s)]),
};

/** ValueInfoProto of a float tensor with a shape (numbers are dims, strings are named dims). */
function valueInfo(name: string, shape: (number | string)[]): number[] {
  const dims = shape.flatMap((d) => field.bytes(1, typeof d === 'number' ? field.int(1, d) : field.str(2, d)));
  const tensor = [...field.int(1, 1), ...field.bytes(2, dims)];
  return [...field.str(1, name), ...field.bytes(2, field.bytes(1, tensor))];
}

export interface HandNode {
  readonly op: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly domain?: string;
}

/**
 * An ONNX model written field by field: one float input [N, 3, size, size], `nodes`, one output `logits`
 * [N, classes], opset `opset`, and `metadata`. What the nodes compute is not checked here (a model onnxruntime
 * would refuse is fine when the point is that we refuse it first).
 */
export function handOnnx(o: {
  nodes: readonly HandNode[];
  size?: number;
  classes?: number;
  opset?: number;
  output?: string;
  metadata?: Readonly<Record<string, string>>;
}): Uint8Array {
  const nodes = o.nodes.flatMap((n, i) =>
    field.bytes(1, [
      ...n.inputs.flatMap((x) => field.str(1, x)),
      ...n.outputs.flatMap((x) => field.str(2, x)),
      ...field.str(3, `node${i}`),
      ...field.str(4, n.op),
      ...(n.domain ? field.str(7, n.domain) : []),
    ]),
  );
  const size = o.size ?? 32;
  const graph = [
    ...nodes,
    ...field.str(2, 'hand'),
    ...field.bytes(11, valueInfo('input', ['N', 3, size, size])),
    ...field.bytes(12, valueInfo(o.output ?? 'logits', ['N', o.classes ?? 10])),
  ];
  const out: number[] = [
    ...field.int(1, 8),
    ...field.str(2, 'hand'),
    ...field.bytes(7, graph),
    ...field.bytes(8, [...field.str(1, ''), ...field.int(2, o.opset ?? 17)]),
    ...Object.entries(o.metadata ?? {}).flatMap(([k, v]) => field.bytes(14, [...field.str(1, k), ...field.str(2, v)])),
  ];
  return Uint8Array.from(out);
}
