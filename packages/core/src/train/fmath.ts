/**
 * exp and log in plain IEEE arithmetic (+, -, *, / and exact bit reads), ported from fdlibm 5.3's e_exp.c and e_log.c
 * (Sun Microsystems, 1993; errors below 1 ulp). ECMAScript leaves Math.exp and Math.log "implementation-approximated":
 * Node 20's V8 and Chromium 156's V8 were measured to differ in the last bit, which made the same training run give
 * different weights in a page and in Node. These give the same bits in every engine.
 */

const view = new DataView(new ArrayBuffer(8));

/** 2^k for integer k in [-1022, 1023], built by exact doubling. */
const POW2 = new Float64Array(2046);
POW2[1022] = 1;
for (let i = 1; i <= 1023; i++) POW2[1022 + i] = POW2[1021 + i]! * 2;
for (let i = 1; i <= 1022; i++) POW2[1022 - i] = POW2[1023 - i]! * 0.5;

const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const INV_LN2 = Math.LOG2E; // 1.4426950408889634, fdlibm's invln2
const P1 = 0.16666666666666602;
const P2 = -0.0027777777777015593;
const P3 = 6.613756321437934e-5;
const P4 = -1.6533902205465252e-6;
const P5 = 4.1381367970572385e-8;
const O_THRESHOLD = 709.782712893384;
const U_THRESHOLD = -745.1332191019411;
const TWO_M1000 = 9.332636185032189e-302;

/** e^x (fdlibm's __ieee754_exp). */
export function exp(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x > O_THRESHOLD) return Number.POSITIVE_INFINITY;
  if (x < U_THRESHOLD) return 0;
  const ax = Math.abs(x);
  let hi = 0;
  let lo = 0;
  let k = 0;
  if (ax > 0.5 * Math.LN2) {
    if (ax < 1.5 * Math.LN2) {
      if (x >= 0) {
        hi = x - LN2_HI;
        lo = LN2_LO;
        k = 1;
      } else {
        hi = x + LN2_HI;
        lo = -LN2_LO;
        k = -1;
      }
    } else {
      k = Math.trunc(INV_LN2 * x + (x >= 0 ? 0.5 : -0.5));
      hi = x - k * LN2_HI;
      lo = k * LN2_LO;
    }
    x = hi - lo;
  } else if (ax < 3.725290298461914e-9) {
    return 1 + x;
  }
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k === 0) return 1 - ((x * c) / (c - 2) - x);
  const y = 1 - (lo - (x * c) / (2 - c) - hi);
  if (k >= -1021) return k === 1024 ? y * 2 * POW2[1022 + 1023]! : y * POW2[1022 + k]!;
  return y * POW2[1022 + k + 1000]! * TWO_M1000;
}

const LG1 = 0.6666666666666735;
const LG2 = 0.3999999999940942;
const LG3 = 0.2857142874366239;
const LG4 = 0.22222198432149784;
const LG5 = 0.1818357216161805;
const LG6 = 0.15313837699209373;
const LG7 = 0.14798198605116586;
const TWO54 = 1.8014398509481984e16;

/** The natural logarithm (fdlibm's __ieee754_log). */
export function log(x: number): number {
  if (Number.isNaN(x) || x < 0) return Number.NaN;
  if (x === 0) return Number.NEGATIVE_INFINITY;
  if (x === Number.POSITIVE_INFINITY) return x;
  let k = 0;
  view.setFloat64(0, x);
  let hx = view.getInt32(0);
  if (hx < 0x00100000) {
    // Subnormal: scale up.
    k -= 54;
    x *= TWO54;
    view.setFloat64(0, x);
    hx = view.getInt32(0);
  }
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  view.setInt32(0, hx | (i ^ 0x3ff00000));
  x = view.getFloat64(0);
  k += i >> 20;
  const f = x - 1;
  const dk = k;
  if ((0x000fffff & (2 + hx)) < 3) {
    if (f === 0) return k === 0 ? 0 : dk * LN2_HI + dk * LN2_LO;
    const R = f * f * (0.5 - 0.3333333333333333 * f);
    return k === 0 ? f - R : dk * LN2_HI - (R - dk * LN2_LO - f);
  }
  const s = f / (2 + f);
  const z = s * s;
  let ii = hx - 0x6147a;
  const w = z * z;
  const j = 0x6b851 - hx;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  ii |= j;
  const R = t2 + t1;
  if (ii > 0) {
    const hfsq = 0.5 * f * f;
    return k === 0 ? f - (hfsq - s * (hfsq + R)) : dk * LN2_HI - (hfsq - (s * (hfsq + R) + dk * LN2_LO) - f);
  }
  return k === 0 ? f - s * (f - R) : dk * LN2_HI - (s * (f - R) - dk * LN2_LO - f);
}
