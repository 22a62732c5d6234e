/**
 * L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., algorithm 7.4, the two-loop recursion) with a line search
 * that satisfies the strong Wolfe conditions (algorithms 3.5 and 3.6, cubic interpolation in the zoom). The stopping
 * rules and defaults are scipy's L-BFGS-B without bounds (the solver behind scikit-learn's 'lbfgs'):
 *   - max |g| <= gtol                                            (scipy's pgtol, scikit-learn's tol)
 *   - (f_prev - f) / max(|f_prev|, |f|, 1) <= ftol              (scipy's factr * eps = 2.22e-9)
 *   - maxIter iterations, m = 10 pairs, at most maxLineSearch evaluations per line search (scipy's maxls = 20),
 *   - the first step is min(1, 1 / ||g||_2) along -g, later steps start at 1.
 * Pure and sequential: the same function and start give the same iterates bit for bit.
 */

/** f(x), writing the gradient at x into g. */
export type ValueAndGradient = (x: Float64Array, g: Float64Array) => number;

export interface LbfgsOptions {
  m?: number;
  gtol?: number;
  ftol?: number;
  maxIter?: number;
  maxLineSearch?: number;
  /** Sufficient decrease constant (scipy's ftol of dcsrch, 1e-3). */
  c1?: number;
  /** Curvature constant (scipy's gtol of dcsrch, 0.9). */
  c2?: number;
  /** Called after each accepted step (progress only: it cannot change the run). */
  onIteration?: (iteration: number, f: number, gmax: number) => void;
}

export interface LbfgsResult {
  x: Float64Array;
  /** f at x. */
  f: number;
  /** max |g| at x. */
  gmax: number;
  iterations: number;
  evaluations: number;
  /** Why it stopped. */
  reason: 'gtol' | 'ftol' | 'maxIter' | 'lineSearch' | 'nonFinite';
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (!(v <= m)) m = v;
  }
  return m;
}

/** The minimizer of the cubic through (a, fa, da) and (b, fb, db), or NaN. */
function cubicMin(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return Number.NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - (b - a) * ((db + d2 - d1) / (db - da + 2 * d2));
}

export function minimizeLbfgs(fg: ValueAndGradient, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const m = options.m ?? 10;
  const gtol = options.gtol ?? 1e-5;
  const ftol = options.ftol ?? 2.220446049250313e-9;
  const maxIter = options.maxIter ?? 15000;
  const maxLs = options.maxLineSearch ?? 20;
  const c1 = options.c1 ?? 1e-3;
  const c2 = options.c2 ?? 0.9;
  const n = x0.length;
  const x = x0.slice();
  const g = new Float64Array(n);
  const d = new Float64Array(n);
  const xt = new Float64Array(n);
  const gt = new Float64Array(n);
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const alpha = new Float64Array(m);
  let stored = 0;
  let head = 0;
  let evaluations = 1;
  let f = fg(x, g);
  const done = (reason: LbfgsResult['reason'], iterations: number): LbfgsResult => ({
    x,
    f,
    gmax: maxAbs(g),
    iterations,
    evaluations,
    reason,
  });
  if (!Number.isFinite(f)) return done('nonFinite', 0);
  if (maxAbs(g) <= gtol) return done('gtol', 0);

  for (let iter = 1; iter <= maxIter; iter++) {
    // Two-loop recursion: d = -H g.
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    for (let j = 0; j < stored; j++) {
      const s = (head - 1 - j + m) % m;
      alpha[s] = rho[s]! * dot(S[s]!, d);
      const ys = Y[s]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! - alpha[s]! * ys[i]!;
    }
    if (stored > 0) {
      const last = (head - 1 + m) % m;
      const gamma = dot(S[last]!, Y[last]!) / dot(Y[last]!, Y[last]!);
      for (let i = 0; i < n; i++) d[i] = d[i]! * gamma;
    }
    for (let j = stored - 1; j >= 0; j--) {
      const s = (head - 1 - j + m) % m;
      const beta = rho[s]! * dot(Y[s]!, d);
      const ss = S[s]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! + (alpha[s]! - beta) * ss[i]!;
    }
    let d0 = dot(g, d);
    if (!(d0 < 0)) {
      // Not a descent direction (lost curvature): restart from steepest descent.
      stored = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      d0 = dot(g, d);
    }
    const f0 = f;
    let step = stored === 0 && iter === 1 ? Math.min(1, 1 / Math.sqrt(dot(d, d))) : 1;

    // Line search (strong Wolfe). phi(a) = f(x + a d); each evaluation leaves its point in xt / gt.
    let evals = 0;
    let lastF = f0;
    const phi = (a: number): [number, number] => {
      for (let i = 0; i < n; i++) xt[i] = x[i]! + a * d[i]!;
      evals++;
      evaluations++;
      const ft = fg(xt, gt);
      lastF = ft;
      return [ft, dot(gt, d)];
    };
    let accepted = false;
    let aPrev = 0;
    let fPrev = f0;
    let dPrev = d0;
    let lo = 0;
    let flo = f0;
    let dlo = d0;
    let hi = 0;
    let fhi = 0;
    let dhi = 0;
    let zoom = false;
    while (evals < maxLs) {
      const [ft, dt] = phi(step);
      if (!Number.isFinite(ft)) {
        // Overshot into overflow: shrink.
        hi = step;
        fhi = Number.POSITIVE_INFINITY;
        dhi = Number.NaN;
        lo = aPrev;
        flo = fPrev;
        dlo = dPrev;
        zoom = true;
        break;
      }
      if (ft > f0 + c1 * step * d0 || (evals > 1 && ft >= fPrev)) {
        lo = aPrev;
        flo = fPrev;
        dlo = dPrev;
        hi = step;
        fhi = ft;
        dhi = dt;
        zoom = true;
        break;
      }
      if (Math.abs(dt) <= -c2 * d0) {
        accepted = true;
        break;
      }
      if (dt >= 0) {
        lo = step;
        flo = ft;
        dlo = dt;
        hi = aPrev;
        fhi = fPrev;
        dhi = dPrev;
        zoom = true;
        break;
      }
      aPrev = step;
      fPrev = ft;
      dPrev = dt;
      step *= 4;
    }
    if (zoom) {
      while (evals < maxLs) {
        const left = Math.min(lo, hi);
        const right = Math.max(lo, hi);
        const width = right - left;
        let a = Number.isFinite(fhi) ? cubicMin(lo, flo, dlo, hi, fhi, dhi) : Number.NaN;
        if (!(a >= left + 0.1 * width && a <= right - 0.1 * width)) a = 0.5 * (lo + hi);
        const [ft, dt] = phi(a);
        if (!Number.isFinite(ft) || ft > f0 + c1 * a * d0 || ft >= flo) {
          hi = a;
          fhi = Number.isFinite(ft) ? ft : Number.POSITIVE_INFINITY;
          dhi = dt;
        } else {
          if (Math.abs(dt) <= -c2 * d0) {
            step = a;
            accepted = true;
            break;
          }
          if (dt * (hi - lo) >= 0) {
            hi = lo;
            fhi = flo;
            dhi = dlo;
          }
          lo = a;
          flo = ft;
          dlo = dt;
        }
        if (width <= 1e-16 * right) break;
      }
      if (!accepted && lo > 0 && flo < f0) {
        // Out of evaluations: take the best point that decreased f (sufficient decrease holds there).
        step = lo;
        phi(step);
        accepted = true;
      }
    }
    if (!accepted) return done('lineSearch', iter - 1);

    // Accept: s = xt - x, y = gt - g.
    const s = S[head]!;
    const yv = Y[head]!;
    for (let i = 0; i < n; i++) {
      s[i] = xt[i]! - x[i]!;
      yv[i] = gt[i]! - g[i]!;
      x[i] = xt[i]!;
      g[i] = gt[i]!;
    }
    const fOld = f;
    f = lastF;
    const ys = dot(yv, s);
    if (ys > 2.220446049250313e-16 * dot(yv, yv)) {
      rho[head] = 1 / ys;
      head = (head + 1) % m;
      if (stored < m) stored++;
    }
    options.onIteration?.(iter, f, maxAbs(g));
    if (maxAbs(g) <= gtol) return done('gtol', iter);
    if ((fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= ftol) return done('ftol', iter);
  }
  return done('maxIter', maxIter);
}
