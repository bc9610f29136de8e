import { E2_PAPER, type E2Config, e2Step, planE2 } from '@gcvi/experiments';
import { disposeFitState, type FitState, fitStep, initFit, type Params } from '@gcvi/objectives';
import { runPythonBench } from './python.js';

/**
 * One E2 training step (DESIGN §2 E2): exactly the step apps/experiments trains, built by
 * `e2Step` of e2/train.ts (exported by @gcvi/experiments) and stepped by `initFit`/`fitStep` of
 * @gcvi/objectives (what `fit` runs): a simulated (S, Z, X), the Z encoder (5 PMA seeds) and the S
 * encoder (1 seed), each a Set Transformer SAB(1→64, 4 heads) → SAB(64→64) → PMA(k) →
 * Linear(64→2), the "mean" parameterization, the forward-KL (L_P) loss or the ELBO on the observed
 * X with K reparameterized samples and softmax weights, forward + backward + Adam with the
 * step-divide schedule. The paper-size rows use the paper profile's config (n = 1,000, width 64,
 * K = 100: python/e2_step.py is the same step in PyTorch); the default-profile rows its config.
 */
export const E2 = {
  n: E2_PAPER.nPoints,
  width: E2_PAPER.width,
  heads: E2_PAPER.heads,
  mu: [-20, -10, 0, 10, 20],
  lr: E2_PAPER.lr,
} as const;

/** Number of reparameterized samples of the paper ELBO step (DESIGN §2 E2). */
export const ELBO_SAMPLES = E2_PAPER.K;

export type E2Objective = E2Config['objective'];

export interface E2Step {
  readonly variant: string;
  readonly config: E2Config;
  /** One step; returns its loss. */
  step(n: number): number;
  /** The live parameters. */
  params(): Params;
  dispose(): void;
}

/** The experiment config of an E2 bench case: the profile's first "mean" run of `objective`. */
export function e2CaseConfig(
  profile: 'paper' | 'default',
  objective: E2Objective,
  fused: boolean,
  overrides: Partial<E2Config> = {},
): E2Config {
  const base = planE2(profile).find((c) => c.objective === objective && c.parameterization === 'mean');
  if (!base) throw new Error(`e2: no '${objective}' run in the ${profile} profile`);
  return { ...base, fusedAttention: fused, steps: 1_000_000, ...overrides };
}

/** The experiment's E2 step for `config`, one `fitStep` per call. */
export function makeE2Step(
  config: E2Config,
  variant: string = config.fusedAttention ? 'fused' : 'plain',
): E2Step {
  const trainer = e2Step(config);
  let state: FitState | undefined;
  try {
    state = initFit(trainer.setup);
  } catch (e) {
    trainer.dispose();
    throw e;
  }
  return {
    variant,
    config,
    step() {
      state = fitStep(state as FitState);
      return state.last?.loss ?? Number.NaN;
    },
    params: () => trainer.params,
    dispose() {
      if (state) disposeFitState(state);
      trainer.dispose();
    },
  };
}

export interface E2Case {
  name: string;
  make(): E2Step;
}

export interface E2CaseGroup {
  name: string;
  /** The config the variants share (up to the attention setting). */
  config: E2Config;
  variants: E2Case[];
}

/**
 * Cases timed by the bench: the forward-KL and ELBO steps of the paper config (n points, default
 * 1,000) and of the default profile's config, attention plain (matMul + softmax) and fused.
 */
export function e2Cases(n: number = E2.n): E2CaseGroup[] {
  const out: E2CaseGroup[] = [];
  for (const objective of ['forward-kl', 'elbo'] as const) {
    out.push({
      name: `${objective}, n ${n}`,
      config: e2CaseConfig('paper', objective, true, { nPoints: n }),
      variants: [false, true].map((fused) => ({
        name: fused ? 'fused' : 'plain',
        make: () => makeE2Step(e2CaseConfig('paper', objective, fused, { nPoints: n })),
      })),
    });
  }
  for (const objective of ['forward-kl', 'elbo'] as const) {
    // As the default profile runs it (its own attention setting).
    const c = e2CaseConfig('default', objective, planE2('default')[0]?.fusedAttention === true);
    out.push({
      name: `${objective}, default profile n ${c.nPoints}`,
      config: c,
      variants: [{ name: c.fusedAttention ? 'fused' : 'plain', make: () => makeE2Step(c) }],
    });
  }
  return out;
}

export interface TorchE2 {
  torch: string;
  threads: number;
  results: { case: string; medianMs: number }[];
}

export function runTorchE2(o: { warmup: number; steps: number; torchThreads: number }): TorchE2 {
  return runPythonBench<TorchE2>('e2_step.py', [
    '--n',
    String(E2.n),
    '--warmup',
    String(o.warmup),
    '--steps',
    String(o.steps),
    '--threads',
    String(o.torchThreads),
  ]);
}
