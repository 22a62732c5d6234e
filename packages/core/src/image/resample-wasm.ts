/**
 * The two passes of `preprocess` as WebAssembly SIMD (f32x4), assembled here from opcodes: no toolchain, no binary
 * file, no fetch. The horizontal pass filters one pixel's channels in one vector (RGB(A) bytes widened to four
 * floats); the vertical pass filters four columns at once. Sums are float32 (the JavaScript path sums in float64):
 * well within the 2e-5 agreement. `wasmResampler()` is null where WebAssembly or its SIMD is unavailable (a page's
 * CSP without 'wasm-unsafe-eval', an old engine); `preprocess` then uses its JavaScript loops.
 */

const I32 = 0x7f;
const F32 = 0x7d;

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return (out.push(b), out);
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

// Instructions (the subset used below).
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const ADD = [0x6a];
const SUB = [0x6b];
const MUL = [0x6c];
const LT_S = [0x48];
const EQZ = [0x45];
const i32load = [0x28, 2, 0];
const f32load = [0x2a, 2, 0];
const f32store = [0x38, 2, 0];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const V_LOAD = simd(0x00, 0, 0);
const V_STORE = simd(0x0b, 0, 0);
const V_LOAD32_ZERO = simd(0x5c, 0, 0);
const F4_SPLAT = simd(0x13);
const F4_LANE = (l: number) => simd(0x1f, l);
const I16_FROM_U8 = simd(0x89);
const I32_FROM_U16 = simd(0xa9);
const F4_FROM_U32 = simd(0xfb);
const F4_ADD = simd(0xe4);
const F4_SUB = simd(0xe5);
const F4_MUL = simd(0xe6);
const V128 = 0x7b;
/** `for (; i < end; i++) body`, with i and end locals: block { loop { br_if exit (i >= end); body; i++; br loop } }. */
const loopTo = (i: number, end: number, body: number[], step = 1) => [
  0x02,
  0x40,
  0x03,
  0x40,
  ...get(i),
  ...get(end),
  ...LT_S,
  ...EQZ,
  0x0d,
  1,
  ...body,
  ...get(i),
  ...i32c(step),
  ...ADD,
  ...set(i),
  0x0c,
  0,
  0x0b,
  0x0b,
];

/**
 * h(src, rowBytes, ch, r0, r1, starts, lens, taps, weights, n, dst, plane): rows [r0, r1) of interleaved bytes at
 * src, each output x the sum of lens[x] pixels from starts[x] weighted by weights[x * taps ..], into three float
 * planes at dst (plane floats apart). Reads 4 bytes per pixel: the caller leaves 4 bytes after the image.
 */
function horizontal(): number[] {
  const [src, rowBytes, ch, r, r1, starts, lens, taps, weights, n, dst, plane] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [x, j, len, p, k, o, pairs, acc, acc2] = [12, 13, 14, 15, 16, 17, 18, 19, 20];
  const locals = [
    [7, I32],
    [2, V128],
  ];
  // weights[kk] * float(u8x4 at pp), where pp and kk are instruction sequences leaving the addresses.
  const tap = (pp: number[], kk: number[]) => [
    ...pp,
    ...V_LOAD32_ZERO,
    ...I16_FROM_U8,
    ...I32_FROM_U16,
    ...F4_FROM_U32,
    ...kk,
    ...f32load,
    ...F4_SPLAT,
    ...F4_MUL,
  ];
  // Two taps per step into two sums: the adds of one sum wait on each other, the two sums do not (a large downscale
  // has 24 taps per output). The sums are added once the taps are done.
  const pair = [
    ...get(acc),
    ...tap(get(p), get(k)),
    ...F4_ADD,
    ...set(acc),
    ...get(acc2),
    ...tap([...get(p), ...get(ch), ...ADD], [...get(k), ...i32c(4), ...ADD]),
    ...F4_ADD,
    ...set(acc2),
    ...get(p),
    ...get(ch),
    ...get(ch),
    ...ADD,
    ...ADD,
    ...set(p),
    ...get(k),
    ...i32c(8),
    ...ADD,
    ...set(k),
  ];
  const lastTap = [...get(acc), ...tap(get(p), get(k)), ...F4_ADD, ...set(acc)];
  const perX = [
    ...get(lens),
    ...get(x),
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...i32load,
    ...set(len),
    ...get(weights),
    ...get(x),
    ...get(taps),
    ...MUL,
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...set(k),
    ...get(src),
    ...get(r),
    ...get(rowBytes),
    ...MUL,
    ...ADD,
    ...get(starts),
    ...get(x),
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...i32load,
    ...get(ch),
    ...MUL,
    ...ADD,
    ...set(p),
    ...simd(0x0c, ...new Array(16).fill(0)),
    ...set(acc),
    ...simd(0x0c, ...new Array(16).fill(0)),
    ...set(acc2),
    ...i32c(0),
    ...set(j),
    // pairs = len - 1: a pair starts at j while j + 1 < len; an odd last tap goes alone
    ...get(len),
    ...i32c(1),
    ...SUB,
    ...set(pairs),
    ...loopTo(j, pairs, pair, 2),
    ...get(j),
    ...get(len),
    ...LT_S,
    0x04,
    0x40,
    ...lastTap,
    0x0b,
    ...get(acc),
    ...get(acc2),
    ...F4_ADD,
    ...set(acc),
    // o = dst + ((r - r0) * n + x) * 4; three lanes to three planes
    ...get(o),
    ...get(x),
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...get(acc),
    ...F4_LANE(0),
    ...f32store,
    ...get(o),
    ...get(x),
    ...get(plane),
    ...ADD,
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...get(acc),
    ...F4_LANE(1),
    ...f32store,
    ...get(o),
    ...get(x),
    ...get(plane),
    ...i32c(2),
    ...MUL,
    ...ADD,
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...get(acc),
    ...F4_LANE(2),
    ...f32store,
  ];
  const perRow = [
    ...i32c(0),
    ...set(x),
    ...loopTo(x, n, perX),
    ...get(o),
    ...get(n),
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...set(o),
  ];
  const body = [...get(dst), ...set(o), ...loopTo(r, r1, perRow)];
  return [...vec(locals), ...body, 0x0b];
}

/**
 * v(tmp, starts, lens, taps, weights, n, out, scale, shift): each output row y the sum of lens[y] rows of the
 * plane at tmp (n floats each) from row starts[y], weighted, then * scale - shift. Four columns at a time: n must
 * be a multiple of 4 (the caller checks).
 */
function vertical(): number[] {
  const [tmp, starts, lens, taps, weights, n, out, scale, shift] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [y, x, j, len, row, k, acc] = [9, 10, 11, 12, 13, 14, 15];
  const locals = [
    [6, I32],
    [1, V128],
  ];
  const inner = [
    ...get(acc),
    ...get(row),
    ...get(j),
    ...get(n),
    ...MUL,
    ...get(x),
    ...ADD,
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...V_LOAD,
    ...get(k),
    ...get(j),
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...f32load,
    ...F4_SPLAT,
    ...F4_MUL,
    ...F4_ADD,
    ...set(acc),
  ];
  const perX = [
    ...simd(0x0c, ...new Array(16).fill(0)),
    ...set(acc),
    ...i32c(0),
    ...set(j),
    ...loopTo(j, len, inner),
    ...get(out),
    ...get(y),
    ...get(n),
    ...MUL,
    ...get(x),
    ...ADD,
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...get(acc),
    ...get(scale),
    ...F4_SPLAT,
    ...F4_MUL,
    ...get(shift),
    ...F4_SPLAT,
    ...F4_SUB,
    ...V_STORE,
  ];
  const perY = [
    ...get(lens),
    ...get(y),
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...i32load,
    ...set(len),
    ...get(weights),
    ...get(y),
    ...get(taps),
    ...MUL,
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...set(k),
    ...get(tmp),
    ...get(starts),
    ...get(y),
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...i32load,
    ...get(n),
    ...MUL,
    ...i32c(4),
    ...MUL,
    ...ADD,
    ...set(row),
    ...i32c(0),
    ...set(x),
    ...loopTo(x, n, perX, 4),
  ];
  return [...vec(locals), ...i32c(0), ...set(y), ...loopTo(y, n, perY), 0x0b];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const hType = [0x60, ...vec(new Array(12).fill([I32])), 0];
  const vType = [0x60, ...vec([...new Array(7).fill([I32]), [F32], [F32]]), 0];
  const code = [horizontal(), vertical()].map((b) => [...uleb(b.length), ...b]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([hType, vType])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0], [1]])),
    ...section(
      7,
      vec([
        [...name('h'), 0x00, 0],
        [...name('v'), 0x00, 1],
      ]),
    ),
    ...section(10, vec(code)),
  ]);
}

export interface WasmResampler {
  readonly memory: WebAssembly.Memory;
  h(
    src: number,
    rowBytes: number,
    ch: number,
    r0: number,
    r1: number,
    starts: number,
    lens: number,
    taps: number,
    weights: number,
    n: number,
    dst: number,
    plane: number,
  ): void;
  v(
    tmp: number,
    starts: number,
    lens: number,
    taps: number,
    weights: number,
    n: number,
    out: number,
    scale: number,
    shift: number,
  ): void;
}

let cached: WasmResampler | null | undefined;

/** The compiled kernels, or null where WebAssembly SIMD cannot run here. Compiled once, synchronously (a few KB). */
export function wasmResampler(): WasmResampler | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), { env: { memory } });
    const e = instance.exports as unknown as Pick<WasmResampler, 'h' | 'v'>;
    cached = { memory, h: e.h, v: e.v };
  } catch {
    cached = null;
  }
  return cached;
}
