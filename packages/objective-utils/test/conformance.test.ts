import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Normal } from '@gcvi/distributions';
import { type AnyObjective, OBJECTIVE_CONTRACT_VERSION, type Objective } from '@gcvi/objective-contract';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { need } from '../src/index.js';
import {
  type ConformanceHarness,
  conformanceChecks,
  conjugateProblem,
  runObjectiveConformance,
} from '../src/test/index.js';

/** A harness without a trainer: the three checks that need none. */
const harness: ConformanceHarness = {
  createRng,
  normal: (loc, scale) => new Normal(loc, scale, { validateArgs: false }),
  setup: async () => {
    await initBackend();
  },
};

/** A correct plugin-style objective: the forward KL on simulated pairs. */
const good: Objective<Record<string, never>> = {
  name: 'test-forward-kl',
  contractVersion: OBJECTIVE_CONTRACT_VERSION,
  requires: ['simulator'],
  description: 'forward KL for the conformance tests',
  defaults: {},
  parseOptions(raw) {
    if (raw !== undefined && (typeof raw !== 'object' || raw === null))
      throw new Error('options: must be an object');
    return {};
  },
  sampleBatch({ problem, rng, batchSize }) {
    need('test-forward-kl', problem, 'simulator');
    const { theta, x } = problem.simulate!(batchSize, rng);
    return { theta, x };
  },
  loss({ batch, q }) {
    return tf.tidy(() =>
      tf.neg(tf.mean<tf.Scalar>(q(batch.x as tf.Tensor).logProb(batch.theta as tf.Tensor))),
    );
  },
};

async function failures(objective: AnyObjective): Promise<string[]> {
  const out: string[] = [];
  for (const c of conformanceChecks(objective, harness)) {
    try {
      await c.run();
    } catch (e) {
      out.push((e as Error).message);
    }
  }
  return out;
}

beforeAll(async () => {
  await initBackend();
});

// Registered with vitest's functions, as a plugin's test file would.
runObjectiveConformance(good, { test: { describe, it, beforeAll }, harness });

describe('the checks catch broken objectives', () => {
  it('a correct objective passes every check when run as plain functions (no test framework)', async () => {
    expect(conformanceChecks(good, harness).map((c) => c.name)).toHaveLength(3);
    expect(await failures(good)).toEqual([]);
  });

  it('a loss that leaks a tensor', async () => {
    const kept: tf.Tensor[] = [];
    const leaky = {
      ...good,
      name: 'leaky',
      loss: (ctx: Parameters<typeof good.loss>[0]) => {
        kept.push(tf.keep(tf.scalar(1)));
        return good.loss(ctx);
      },
    };
    expect(await failures(leaky)).toEqual([
      expect.stringMatching(/'leaky' fails conformance: 2 tensors left behind/),
    ]);
    tf.dispose(kept);
  });

  it('a loss that ignores q, and one that is not a pure function', async () => {
    const constant = { ...good, name: 'constant', loss: () => tf.scalar(1) };
    expect((await failures(constant)).join('\n')).toMatch(
      /'constant' fails conformance: no gradient reaches the encoder parameters/,
    );
    let calls = 0;
    const impure = {
      ...good,
      name: 'impure',
      loss: (ctx: Parameters<typeof good.loss>[0]) =>
        tf.tidy(() => tf.add(good.loss(ctx), calls++ * 1e-3) as tf.Scalar),
    };
    expect((await failures(impure)).join('\n')).toMatch(/same inputs gave losses/);
  });

  it('using a capability it does not declare, a bad name, options that accept anything', async () => {
    const undeclared = { ...good, name: 'undeclared', requires: [] as const };
    expect((await failures(undeclared)).join('\n')).toMatch(
      /problem\.simulate: objective 'test-forward-kl' requires/,
    );
    expect((await failures({ ...good, name: 'Bad_Name' })).join('\n')).toMatch(/name must be kebab-case/);
    expect((await failures({ ...good, parseOptions: () => ({}) })).join('\n')).toMatch(
      /parseOptions\(42\) must throw/,
    );
    expect((await failures({ ...good, contractVersion: 2 } as never)).join('\n')).toMatch(
      /contractVersion must be 1/,
    );
  });

  it('conjugateProblem provides only what is asked, with the stated distributions (4 standard errors)', () => {
    const p = conjugateProblem(['observed'], createRng(1), 4000);
    expect(p.simulate).toBeUndefined();
    expect(p.logJoint).toBeUndefined();
    const v = Array.from(p.observed!.dataSync());
    const mean = v.reduce((s, a) => s + a, 0) / v.length;
    const variance = v.reduce((s, a) => s + (a - mean) ** 2, 0) / v.length;
    expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(2 / v.length));
    expect(Math.abs(variance - 2)).toBeLessThan(4 * 2 * Math.sqrt(2 / v.length));
    p.dispose();
    const q = conjugateProblem(['simulator', 'logJoint'], createRng(2));
    const { theta, x } = q.simulate!(3, createRng(3));
    expect([theta.shape, x.shape]).toEqual([[3], [3, 1]]);
    // log p(θ, x) = log N(θ; 0, 1) + log N(x; θ, 1), checked in float64 at one point.
    const lj = q.logJoint!(tf.tensor1d([0.3]), tf.tensor2d([[1.1]])).dataSync()[0] as number;
    const want = -0.5 * (0.3 ** 2 + Math.log(2 * Math.PI)) - 0.5 * ((1.1 - 0.3) ** 2 + Math.log(2 * Math.PI));
    expect(Math.abs(lj - want)).toBeLessThan(1e-6);
    tf.dispose([theta, x]);
  });
});

describe('packaging', () => {
  it('src imports only the contract and tfjs-core (no test framework, not even in ./test)', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) =>
        statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)],
      );
    const files = walk(join(__dirname, '..', 'src'));
    expect(files.length).toBeGreaterThan(4);
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(
        /^(?:import|export)\b[^;]*?from '([^']+)'|\bimport\('([^']+)'\)/gms,
      )) {
        const spec = (m[1] ?? m[2]) as string;
        if (spec.startsWith('.')) continue;
        expect(['@gcvi/objective-contract', '@tensorflow/tfjs-core'], `${f} imports ${spec}`).toContain(spec);
      }
    }
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies)).toEqual(['@gcvi/objective-contract']);
    expect(Object.keys(pkg.peerDependencies)).toEqual(['@tensorflow/tfjs-core']);
  });
});
