import { describe, expect, it } from 'vitest';
import { gaussianMetrics, gridPosterior, mergeNodes } from './posterior.js';

/** A periodic log-likelihood that is Gaussian (m, s) near its peak: closed forms for every metric. */
function setup(m: number, s: number) {
  const coarse = Array.from({ length: 720 }, (_, i) => (i * 2 * Math.PI) / 720);
  const fine = Array.from({ length: 401 }, (_, i) => m - 8 * s + (16 * s * i) / 400);
  const nodes = mergeNodes(coarse, fine);
  const wrapd = (t: number) => {
    const d = (((t - m) % (2 * Math.PI)) + 3 * Math.PI) % (2 * Math.PI);
    return d - Math.PI;
  };
  const ll = Array.from(nodes, (t) => -0.5 * (wrapd(t) / s) ** 2 + 7);
  return gridPosterior(nodes, ll);
}

describe('grid posterior and Gaussian metrics', () => {
  it('match closed forms for a narrow Gaussian likelihood (forward KL, reverse KL, evidence, NLL)', () => {
    const m = 4.5;
    const s = 0.002;
    const post = setup(m, s);
    // log p(x) = 7 + log(√(2π) s) − log 2π.
    expect(post.logEvidence).toBeCloseTo(7 + Math.log(Math.sqrt(2 * Math.PI) * s) - Math.log(2 * Math.PI), 6);
    expect(post.mode).toBeCloseTo(m, 3);
    for (const [mu, sd] of [
      [4.6, 0.5],
      [4.2, 0.5],
      [4.5, 0.3],
    ] as const) {
      const g = gaussianMetrics(post, mu, sd, m);
      const fwd = Math.log(sd / s) + (s * s + (m - mu) ** 2) / (2 * sd * sd) - 0.5;
      const rev = Math.log(s / sd) + (sd * sd + (mu - m) ** 2) / (2 * s * s) - 0.5;
      expect(g.forwardKl).toBeCloseTo(fwd, 4);
      // The reverse KL is ~3e4 here; the coarse grid's quadrature error is far below 1e-4 relative.
      expect(Math.abs(g.reverseKl - rev) / rev).toBeLessThan(1e-4);
      expect(g.nll).toBeCloseTo(0.5 * ((m - mu) / sd) ** 2 + Math.log(sd) + 0.5 * Math.log(2 * Math.PI), 12);
    }
  });

  it('a likelihood peaked across 0/2π wraps around', () => {
    const post = setup(0.001, 0.01);
    expect(post.logEvidence).toBeCloseTo(
      7 + Math.log(Math.sqrt(2 * Math.PI) * 0.01) - Math.log(2 * Math.PI),
      4,
    );
    const g = gaussianMetrics(post, 2 * Math.PI + 0.001, 0.5, 0.001);
    // q centred one period up: the reverse KL sees the periodic likelihood, as at mu = 0.001.
    const rev = Math.log(0.01 / 0.5) + 0.25 / (2 * 1e-4) - 0.5;
    expect(Math.abs(g.reverseKl - rev) / rev).toBeLessThan(1e-3);
  });
});
