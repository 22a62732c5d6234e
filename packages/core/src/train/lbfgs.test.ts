import { describe, expect, it } from 'vitest';
import { minimizeLbfgs } from './lbfgs.js';

describe('minimizeLbfgs', () => {
  it('finds the minimum of the 10-dimensional Rosenbrock function', () => {
    const n = 10;
    const fg = (x: Float64Array, g: Float64Array) => {
      let f = 0;
      g.fill(0);
      for (let i = 0; i < n - 1; i++) {
        const a = x[i + 1]! - x[i]! * x[i]!;
        const b = 1 - x[i]!;
        f += 100 * a * a + b * b;
        g[i] = g[i]! - 400 * x[i]! * a - 2 * b;
        g[i + 1] = g[i + 1]! + 200 * a;
      }
      return f;
    };
    const r = minimizeLbfgs(fg, new Float64Array(n).fill(-1.2), { gtol: 1e-9, ftol: 0 });
    expect(r.reason).toBe('gtol');
    for (const v of r.x) expect(v).toBeCloseTo(1, 6);
    expect(r.f).toBeLessThan(1e-12);
  });

  it('stops at once on a zero gradient and reports a non-finite start', () => {
    expect(minimizeLbfgs((_x, g) => (g.fill(0), 3), new Float64Array(2)).reason).toBe('gtol');
    expect(minimizeLbfgs((_x, g) => (g.fill(0), Number.NaN), new Float64Array(2)).reason).toBe('nonFinite');
  });

  it('a quadratic bowl: exact minimum in few iterations', () => {
    const d = [1, 10, 100, 1000];
    const r = minimizeLbfgs(
      (x, g) => {
        let f = 0;
        for (let i = 0; i < 4; i++) {
          f += 0.5 * d[i]! * (x[i]! - i) ** 2;
          g[i] = d[i]! * (x[i]! - i);
        }
        return f;
      },
      new Float64Array(4),
      { gtol: 1e-10, ftol: 0 },
    );
    expect(Array.from(r.x, (v) => Number(v.toFixed(8)))).toEqual([0, 1, 2, 3]);
    expect(r.iterations).toBeLessThan(30);
  });
});
