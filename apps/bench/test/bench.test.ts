import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedE1Step, plainE1Step } from '../src/e1.js';
import { runE1Fit } from '../src/e1fit.js';
import { e2Cases } from '../src/e2.js';
import { parseLastJson } from '../src/python.js';
import { markdownTable, summarize } from '../src/stats.js';

describe('bench helpers', () => {
  it('summarize uses sorted[floor(q n)] like the python scripts', () => {
    const t = summarize([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
    expect(t).toEqual({ medianMs: 6, p10Ms: 2, p90Ms: 10, steps: 10 });
    expect(() => summarize([])).toThrow(/no samples/);
  });

  it('markdownTable and parseLastJson', () => {
    expect(markdownTable(['a', 'b'], [['1', '2']])).toBe('| a | b |\n| --- | --- |\n| 1 | 2 |');
    expect(parseLastJson<{ x: number }>('warning: x\n{"x": 1}\n{"x": 2}\n', 's')).toEqual({ x: 2 });
    expect(() => parseLastJson('no json', 'script.py')).toThrow(/script.py/);
  });
});

// The bench must time the same computation in every variant: same data, init, loss and update.
describe.each(['wasm', 'cpu'] as const)('bench steps compute the same thing on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it.each([64, 1024])(
    'E1 via fit() (dense, VonMises.fromNatural, forward-kl, adam) follows the fused step loss trajectory on the same pairs (width %i)',
    async (width) => {
      const before = tf.memory().numTensors;
      const run = await runE1Fit(width, 16, 3, 2, 4);
      expect(tf.memory().numTensors).toBe(before);
      expect(run.losses).toHaveLength(7);
      expect(run.timing.steps).toBe(4);
      expect(run.skippedSteps).toBe(0);
      // At init (last layer 0) η = (1e-4, 1e-4) for every x: the loss is log 2π to within ~2e-4.
      expect(Math.abs(run.losses[0]! - Math.log(2 * Math.PI))).toBeLessThan(2e-4);
      // Same init (seed 3's 'init' stream), same pairs (fit draws from train/fit/batch), same schedule.
      const fused = fusedE1Step(width, 16, 3, createRng(3).split('train').split('fit/batch'));
      for (let n = 0; n < 7; n++) {
        const lf = fused.step(n);
        expect(Math.abs(run.losses[n]! - lf)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(lf)));
      }
      fused.dispose();
    },
  );

  it.each([64, 1024])('E1 plain and fused steps follow the same loss trajectory (width %i)', (width) => {
    const a = plainE1Step(width, 16, 3);
    const b = fusedE1Step(width, 16, 3);
    for (let n = 0; n < 6; n++) {
      const la = a.step(n);
      const lb = b.step(n);
      expect(Math.abs(la - lb)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(la)));
    }
    a.dispose();
    b.dispose();
  });

  it.each([0, 1])(
    'E2 plain and fused steps (case %i: forward-KL, ELBO) start from the same loss (n = 40), leak no tensors',
    (which) => {
      // Only the first loss is compared: after it, Adam turns float32 rounding differences in
      // near-zero gradients into ±lr moves, so trajectories drift apart by design.
      const before = tf.memory().numTensors;
      const c = e2Cases(40)[which];
      const [plain, fused] = c.variants.map((v) => v.make());
      const lp = plain.step(0);
      const lf = fused.step(0);
      expect(Math.abs(lp - lf)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(lp)));
      plain.step(1);
      fused.step(1);
      plain.dispose();
      fused.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});

describe('FLOP counts and the BLAS check', () => {
  it('the angle and latent encoder counts equal the multiply–adds implied by the encoders’ own parameter shapes', async () => {
    const { mnistAngleEncoder, mnistLatentEncoder, generatorMlp } = await import('@gcvi/encoders');
    const { ANGLE_ENCODER, LATENT_ENCODER, GENERATOR } = await import('../src/flops.js');
    // A weight of a 3×3 stride-2 convolution is used once per output position (28 → 13 → 6 → 2);
    // a dense weight once per example.
    const outPositions = [13 * 13, 6 * 6, 2 * 2];
    const macs = (specs: readonly { name: string; shape: readonly number[] }[]) => {
      let conv = 0;
      let s = 0;
      for (const p of specs) {
        const n = p.shape.reduce((a, b) => a * b, 1);
        if (p.shape.length === 4) s += n * outPositions[conv++]!;
        else if (p.shape.length === 2) s += n;
      }
      return s;
    };
    const sum = (ls: readonly { macs: number }[]) => ls.reduce((a, l) => a + l.macs, 0);
    expect(sum(ANGLE_ENCODER)).toBe(macs(mnistAngleEncoder().paramSpecs));
    expect(sum(LATENT_ENCODER)).toBe(macs(mnistLatentEncoder().paramSpecs));
    expect(sum(GENERATOR)).toBe(macs(generatorMlp().paramSpecs));
  });

  it('an E3 L_P step of 8 × 16 images is about 0.6 GFLOP (issue 16’s estimate), 1,000 images about 4.9', async () => {
    const { e3LpFlops } = await import('../src/flops.js');
    expect(e3LpFlops(128) / 1e9).toBeGreaterThan(0.55);
    expect(e3LpFlops(128) / 1e9).toBeLessThan(0.7);
    expect(e3LpFlops(1000)).toBeCloseTo((1000 / 128) * e3LpFlops(128), 0);
  });

  it('refuses ratios against the reference BLAS and accepts OpenBLAS', async () => {
    const { unfairBlas } = await import('../src/python.js');
    const base = { torch: '1.13', sgemmSize: 1024, sgemmGflops: { '1': 1 } };
    expect(
      unfairBlas({
        ...base,
        blas: 'reference',
        blasPaths: ['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0'],
      }),
    ).toMatch(/reference BLAS.*libopenblas0-pthread/);
    expect(unfairBlas({ ...base, blas: 'none-mapped', blasPaths: [] })).toMatch(/cannot tell/);
    expect(unfairBlas({ ...base, blas: 'openblas', blasPaths: ['/x/libopenblasp-r0.3.21.so'] })).toBeNull();
  });
});

describe.each(['wasm', 'cpu'] as const)('E3/E4 bench steps on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it('E4 L_P and E3 L_P (2 × 4 images) run through fit() with finite losses and no leaked tensors', async () => {
    const { runE3Case } = await import('../src/e3.js');
    const before = tf.memory().numTensors;
    const a = await runE3Case({ kind: 'e4-lp' }, 2, 1, 1);
    const b = await runE3Case({ kind: 'e3-lp', sets: 2, images: 4 }, 2, 1, 1);
    expect(tf.memory().numTensors).toBe(before);
    for (const r of [a, b]) {
      expect(r.losses).toHaveLength(3);
      for (const l of r.losses) expect(Number.isFinite(l)).toBe(true);
    }
  });
});
